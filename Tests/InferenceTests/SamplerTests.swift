import XCTest
@testable import Inference

final class SamplerTests: XCTestCase {
    private func sample(_ logits: [Float], _ parameters: SamplingParameters, history: [Int32] = []) throws -> Int32 {
        var sampler = try Sampler(parameters)
        return try logits.withUnsafeBufferPointer { try sampler.sample($0, history: history) }
    }

    func testGreedyPicksTheFirstMaximum() throws {
        XCTAssertEqual(try sample([0.1, 3, -1, 3, 2], .greedy), 1)
        XCTAssertEqual(try sample([-5, -4, -4.5], .greedy), 1)
    }

    func testTopKOfOneIsGreedyAtAnyTemperature() throws {
        var p = SamplingParameters()
        p.temperature = 1.5
        p.topK = 1
        for seed in 0..<20 {
            p.seed = UInt64(seed)
            XCTAssertEqual(try sample([0.5, 0.2, 2.5, 2.4], p), 2)
        }
    }

    func testSeedMakesSamplingReproducibleAndDifferentSeedsDiffer() throws {
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0
        let logits: [Float] = (0..<50).map { Float($0 % 7) * 0.3 }
        func run(_ seed: UInt64) throws -> [Int32] {
            p.seed = seed
            var sampler = try Sampler(p)
            return try (0..<40).map { _ in try logits.withUnsafeBufferPointer { try sampler.sample($0, history: []) } }
        }
        XCTAssertEqual(try run(7), try run(7))
        XCTAssertNotEqual(try run(7), try run(8))
    }

    func testDrawsFollowTheDistribution() throws {
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 0
        p.topP = 1
        p.minP = 0
        p.seed = 1
        var sampler = try Sampler(p)
        // log(1), log(3): token 1 should come up about 3 times as often as token 0.
        let logits: [Float] = [0, 1.0986123]
        var counts = [0, 0]
        for _ in 0..<20000 { counts[Int(try logits.withUnsafeBufferPointer { try sampler.sample($0, history: []) })] += 1 }
        let ratio = Double(counts[1]) / Double(counts[0])
        XCTAssertEqual(ratio, 3, accuracy: 0.25)
    }

    func testTopPAndMinPCutTheTail() throws {
        var p = SamplingParameters()
        p.temperature = 1
        p.topK = 0
        p.minP = 0
        p.topP = 0.5
        // Probabilities ~ [0.64, 0.24, 0.09, 0.03]: top-p 0.5 keeps only the first.
        let logits: [Float] = [3, 2, 1, 0]
        for seed in 0..<30 {
            p.seed = UInt64(seed)
            XCTAssertEqual(try sample(logits, p), 0)
        }
        p.topP = 1
        p.minP = 0.3  // keeps tokens with p >= 0.3 * 0.64 = 0.19: tokens 0 and 1
        var seen = Set<Int32>()
        for seed in 0..<200 {
            p.seed = UInt64(seed)
            seen.insert(try sample(logits, p))
        }
        XCTAssertEqual(seen, [0, 1])
    }

    func testRepeatPenaltyChangesTheGreedyChoice() throws {
        var p = SamplingParameters.greedy
        p.repeatPenalty = 2
        // Token 0 (logit 2) was just used: 2 / 2 = 1 < 1.5.
        XCTAssertEqual(try sample([2, 1.5, 0], p, history: [0]), 1)
        p.repeatPenalty = 1
        p.presencePenalty = 1
        XCTAssertEqual(try sample([2, 1.5, 0], p, history: [0]), 1)
    }

    func testInvalidParametersAreNamed() {
        var p = SamplingParameters()
        p.temperature = -1
        XCTAssertThrowsError(try Sampler(p)) { XCTAssertTrue("\($0)".contains("temperature")) }
        p = SamplingParameters()
        p.topP = 0
        XCTAssertThrowsError(try Sampler(p)) { XCTAssertTrue("\($0)".contains("top_p")) }
        p = SamplingParameters()
        p.minP = 2
        XCTAssertThrowsError(try Sampler(p)) { XCTAssertTrue("\($0)".contains("min_p")) }
        p = SamplingParameters()
        p.topK = -3
        XCTAssertThrowsError(try Sampler(p)) { XCTAssertTrue("\($0)".contains("top_k")) }
        p = SamplingParameters()
        p.repeatPenalty = 0
        XCTAssertThrowsError(try Sampler(p)) { XCTAssertTrue("\($0)".contains("repeat_penalty")) }
    }
}

/// The sampler against a plain reference of llama.cpp's chain (penalties, top-k, top-p, min-p, temperature, dist)
/// written the obvious way: a full sort, in Double. The reference gives each token's exact probability; many
/// seeded draws must match those frequencies.
final class SamplerDistributionTests: XCTestCase {
    /// Each token's probability under the chain, as llama.cpp's samplers compute it.
    static func reference(_ logits: [Float], _ p: SamplingParameters, history: [Int32] = []) -> [Double] {
        var values = logits.map(Double.init)
        var counts: [Int32: Int] = [:]
        for token in history.suffix(p.penaltyWindow) { counts[token, default: 0] += 1 }
        for (token, count) in counts {
            var v = values[Int(token)]
            if p.repeatPenalty != 1 { v = v <= 0 ? v * Double(p.repeatPenalty) : v / Double(p.repeatPenalty) }
            values[Int(token)] = v - Double(count) * Double(p.frequencyPenalty) - Double(p.presencePenalty)
        }
        var order = values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }
        if p.topK > 0 { order = Array(order.prefix(p.topK)) }
        func softmax(_ ids: [Int], _ t: Double) -> [Double] {
            let top = values[ids[0]]
            let e = ids.map { exp((values[$0] - top) / t) }
            let sum = e.reduce(0, +)
            return e.map { $0 / sum }
        }
        if p.topP < 1 {
            var cumulative = 0.0
            let probabilities = softmax(order, 1)
            for (i, probability) in probabilities.enumerated() {
                cumulative += probability
                if cumulative >= Double(p.topP) {
                    order = Array(order.prefix(i + 1))
                    break
                }
            }
        }
        if p.minP > 0 {
            let threshold = values[order[0]] + log(Double(p.minP))
            order = order.enumerated().filter { $0.offset == 0 || values[$0.element] >= threshold }.map(\.element)
        }
        var out = [Double](repeating: 0, count: logits.count)
        for (id, probability) in zip(order, softmax(order, Double(p.temperature))) { out[id] = probability }
        return out
    }

    /// Logits spread like a language model's: a few likely tokens, a long tail.
    static func logits(_ count: Int, seed: UInt64) -> [Float] {
        var state = seed
        return (0..<count).map { _ in
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let u = Double(state >> 11) / Double(1 << 53)
            return Float(8 * pow(u, 6) - 2)
        }
    }

    private func assertDrawsFollow(_ logits: [Float], _ p: SamplingParameters, history: [Int32] = [], draws: Int = 20_000,
                                   file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = Self.reference(logits, p, history: history)
        var sampler = try Sampler(p)
        var counts = [Int](repeating: 0, count: logits.count)
        try logits.withUnsafeBufferPointer { buffer in
            for _ in 0..<draws { counts[Int(try sampler.sample(buffer, history: history))] += 1 }
        }
        for (token, probability) in expected.enumerated() {
            let mean = Double(draws) * probability
            if probability == 0 {
                XCTAssertEqual(counts[token], 0, "token \(token) is outside the chain's survivors but was drawn", file: file, line: line)
            } else {
                let tolerance = 5 * (mean * (1 - probability)).squareRoot() + 2
                XCTAssertEqual(Double(counts[token]), mean, accuracy: tolerance,
                               "token \(token): drawn \(counts[token]) times, expected \(mean.rounded())", file: file, line: line)
            }
        }
    }

    private static func parameters(temperature: Float, topK: Int, topP: Float, minP: Float, seed: UInt64 = 11) -> SamplingParameters {
        var p = SamplingParameters()
        p.temperature = temperature
        p.topK = topK
        p.topP = topP
        p.minP = minP
        p.seed = seed
        return p
    }

    func testLlamaServerDefaults() throws {
        try assertDrawsFollow(Self.logits(256, seed: 1), Self.parameters(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05))
    }

    func testTopPWithoutTopKGrowsTheSelection() throws {
        // A flat tail: top-p 0.9 needs far more than the first selection of 64.
        try assertDrawsFollow(Self.logits(240, seed: 2).map { $0 / 8 }, Self.parameters(temperature: 1, topK: 0, topP: 0.9, minP: 0),
                              draws: 8000)
        try assertDrawsFollow(Self.logits(200, seed: 3), Self.parameters(temperature: 1.3, topK: 0, topP: 0.7, minP: 0.02), draws: 8000)
    }

    func testMinPWithoutTopKAndTheWholeDistribution() throws {
        try assertDrawsFollow(Self.logits(160, seed: 4).map { $0 / 6 }, Self.parameters(temperature: 0.7, topK: 0, topP: 1, minP: 0.2),
                              draws: 8000)
        try assertDrawsFollow(Self.logits(60, seed: 5), Self.parameters(temperature: 1, topK: 0, topP: 1, minP: 0), draws: 8000)
    }

    func testPenaltiesBeforeTheChain() throws {
        var p = Self.parameters(temperature: 0.9, topK: 20, topP: 0.95, minP: 0.05)
        p.repeatPenalty = 1.3
        p.presencePenalty = 0.5
        p.frequencyPenalty = 0.25
        let logits = Self.logits(256, seed: 6)
        // The most likely tokens, some of them twice, and a negative presence penalty raising a tail token.
        let top = logits.indices.sorted { logits[$0] > logits[$1] }.prefix(6).map(Int32.init)
        try assertDrawsFollow(logits, p, history: top + top.prefix(3) + [7, 7])
        p.presencePenalty = -1.5
        try assertDrawsFollow(logits, p, history: [Int32(logits.indices.min { logits[$0] < logits[$1] }!)])
        // No truncation at all: the draw walks the whole distribution, penalties included.
        var whole = Self.parameters(temperature: 1, topK: 0, topP: 1, minP: 0)
        whole.repeatPenalty = 1.5
        whole.presencePenalty = 0.4
        let small = Self.logits(60, seed: 8)
        let favourite = Int32(small.indices.max { small[$0] < small[$1] }!)
        try assertDrawsFollow(small, whole, history: [favourite, favourite, 3, 50], draws: 8000)
    }

    func testEdgeCases() throws {
        // k larger than the vocabulary, p = 1: the whole distribution at this temperature.
        try assertDrawsFollow([0, 1, 2, 0.5], Self.parameters(temperature: 2, topK: 50, topP: 1, minP: 0))
        // All logits equal: every survivor of top-k equally likely (the lowest ids on ties, as the reference).
        try assertDrawsFollow([Float](repeating: 1.5, count: 100), Self.parameters(temperature: 0.8, topK: 10, topP: 0.95, minP: 0.05))
        // -infinity logits are masked tokens, never drawn.
        try assertDrawsFollow([0, -.infinity, 1, -.infinity], Self.parameters(temperature: 1, topK: 0, topP: 1, minP: 0))
    }

    func testBrokenLogitsAreRefusedWithAClearError() throws {
        for bad: Float in [.nan, .infinity] {
            for p in [SamplingParameters.greedy, Self.parameters(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05),
                      Self.parameters(temperature: 1, topK: 0, topP: 0.9, minP: 0), Self.parameters(temperature: 1, topK: 0, topP: 1, minP: 0)] {
                var sampler = try Sampler(p)
                let logits: [Float] = [0.5, 1, bad, 0.25] + [Float](repeating: 0, count: 100)
                XCTAssertThrowsError(try logits.withUnsafeBufferPointer { try sampler.sample($0, history: []) }) { error in
                    XCTAssertTrue("\(error)".contains("logit of \(bad) (token 2)"), "\(error)")
                }
            }
        }
        var sampler = try Sampler(Self.parameters(temperature: 1, topK: 5, topP: 1, minP: 0))
        let masked = [Float](repeating: -.infinity, count: 10)
        XCTAssertThrowsError(try masked.withUnsafeBufferPointer { try sampler.sample($0, history: []) }) { error in
            XCTAssertTrue("\(error)".contains("every logit is -infinity"), "\(error)")
        }
    }

    func testASeedGivesTheSameTokensEveryRun() throws {
        let logits = Self.logits(1000, seed: 9)
        func run() throws -> [Int32] {
            var sampler = try Sampler(Self.parameters(temperature: 0.8, topK: 40, topP: 0.95, minP: 0.05, seed: 42))
            return try logits.withUnsafeBufferPointer { buffer in try (0..<200).map { _ in try sampler.sample(buffer, history: []) } }
        }
        XCTAssertEqual(try run(), try run())
    }
}

final class StopMatcherTests: XCTestCase {
    func testStopStringSplitAcrossPiecesIsCut() {
        var m = StopMatcher(["</end>"])
        var out = ""
        var stopped = false
        for piece in ["Hello <", "/e", "nd> more"] {
            let (emit, s) = m.feed(piece)
            out += emit
            if s { stopped = true; break }
        }
        XCTAssertTrue(stopped)
        XCTAssertEqual(out, "Hello ")
    }

    func testHeldBackPrefixIsReleasedWhenItIsNotAStop() {
        var m = StopMatcher(["STOP"])
        XCTAssertEqual(m.feed("abc ST").0, "abc ")
        XCTAssertEqual(m.feed("ART").0, "START")
        XCTAssertEqual(m.finish("ST"), "ST")
    }

    func testEarliestOfSeveralStopsWins() {
        var m = StopMatcher(["b", "a"])
        let (emit, stopped) = m.feed("xxbxa")
        XCTAssertTrue(stopped)
        XCTAssertEqual(emit, "xx")
    }

    func testMultibyteTextIsKeptWhole() {
        var m = StopMatcher(["🙂"])
        XCTAssertEqual(m.feed("日本語 ").0, "日本語 ")
        let (emit, stopped) = m.feed("é🙂x")
        XCTAssertEqual(emit, "é")
        XCTAssertTrue(stopped)
    }
}
