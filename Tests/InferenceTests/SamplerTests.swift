import XCTest
@testable import Inference

final class SamplerTests: XCTestCase {
    private func sample(_ logits: [Float], _ parameters: SamplingParameters, history: [Int32] = []) throws -> Int32 {
        var sampler = try Sampler(parameters)
        return logits.withUnsafeBufferPointer { sampler.sample($0, history: history) }
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
            return (0..<40).map { _ in logits.withUnsafeBufferPointer { sampler.sample($0, history: []) } }
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
        for _ in 0..<20000 { counts[Int(logits.withUnsafeBufferPointer { sampler.sample($0, history: []) })] += 1 }
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
