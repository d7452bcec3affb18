// Picks the next token from logits with llama.cpp's default chain: penalties, top-k, top-p, min-p, temperature,
// then a seeded draw. Temperature 0 is argmax of the penalised logits.
//
// Cost: one pass over the vocabulary. The pass (ck_select_top, C) keeps the best candidates in a bounded min-heap
// (top-k by partial selection, never a sort of the vocabulary); the penalties, which touch at most the penalty window's distinct
// tokens, are applied to a small list afterwards; top-p, min-p and temperature then work on the survivors only.
// Without top-k the survivors are found by growing the selection until top-p or min-p is satisfied (one more pass
// each time), and with no truncation at all the draw walks the whole distribution.
import CKernels

public struct Sampler {
    public let parameters: SamplingParameters
    private var random: Xoshiro256
    /// Min-heap (worst candidate at the root) during the pass; afterwards the survivors, best first.
    private var candidates: [Candidate] = []
    /// Distinct tokens of the penalty window with their counts, then their penalised logits.
    private var penalised: [Candidate] = []
    private var probabilities: [Float] = []
    /// ck_select_top's output, reused between calls.
    private var selectedValues: [Float] = []
    private var selectedIDs: [Int32] = []

    /// A token and its (possibly penalised) logit. Ordered by logit, then by lower token id.
    struct Candidate {
        var logit: Float
        var token: Int32

        @inline(__always)
        func beats(_ other: Candidate) -> Bool {
            logit > other.logit || (logit == other.logit && token < other.token)
        }
    }

    /// The first selection when top-k is off; it grows eightfold while top-p or min-p needs more.
    static let initialSelection = 64

    public init(_ parameters: SamplingParameters) throws(ModelError) {
        self.parameters = try parameters.validated()
        random = Xoshiro256(seed: parameters.seed ?? Xoshiro256.entropySeed())
    }

    /// `history`: tokens prompted and generated so far (for the penalties). Refuses logits that are NaN or
    /// +infinity, or all -infinity: a model that produces them is broken, and no draw from them means anything.
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: [Int32]) throws(ModelError) -> Int32 {
        let p = parameters
        let n = logits.count
        guard n > 0 else { throw ModelError("no logits to sample from") }
        collectPenalties(history, vocabularySize: n)
        if p.temperature == 0 && penalised.isEmpty {
            return try Self.checkedArgmax(logits)
        }
        let keep = p.temperature == 0 ? 1 : (p.topK > 0 ? min(p.topK, n) : n)
        if keep == n {
            return try sampleWithoutTopK(logits)
        }
        try select(keep, from: logits)
        return try finishChain()
    }

    // MARK: - Selection

    /// Gathers the distinct tokens of the penalty window with their counts (logits are filled in by `select`).
    private mutating func collectPenalties(_ history: [Int32], vocabularySize n: Int) {
        penalised.removeAll(keepingCapacity: true)
        let p = parameters
        guard p.repeatPenalty != 1 || p.presencePenalty != 0 || p.frequencyPenalty != 0 else { return }
        for token in history.suffix(p.penaltyWindow) where token >= 0 && Int(token) < n {
            // The window is short (64 by default): a linear look-up beats hashing here. `logit` holds the count.
            if let at = penalised.firstIndex(where: { $0.token == token }) {
                penalised[at].logit += 1
            } else {
                penalised.append(Candidate(logit: 1, token: token))
            }
        }
    }

    /// llama.cpp's penalties sampler on one logit.
    private func penalise(_ logit: Float, count: Float) -> Float {
        let p = parameters
        var value = logit
        if p.repeatPenalty != 1 { value = value <= 0 ? value * p.repeatPenalty : value / p.repeatPenalty }
        return value - count * p.frequencyPenalty - p.presencePenalty
    }

    /// Leaves the `m` best candidates of the penalised logits in `candidates`, best first. One pass: a heap of
    /// m + (penalised tokens) raw candidates (enough that the m best unpenalised tokens survive whatever the
    /// penalties do), then the penalised tokens re-enter with their penalised logits.
    private mutating func select(_ m: Int, from logits: UnsafeBufferPointer<Float>) throws(ModelError) {
        let n = logits.count
        let capacity = min(n, m + penalised.count)
        if selectedValues.count < capacity {
            selectedValues = [Float](repeating: 0, count: capacity)
            selectedIDs = [Int32](repeating: 0, count: capacity)
        }
        guard let base = logits.baseAddress else { return }
        let found = selectedValues.withUnsafeMutableBufferPointer { values in
            selectedIDs.withUnsafeMutableBufferPointer { ids in
                ck_select_top(base, Int64(n), Int64(capacity), values.baseAddress, ids.baseAddress)
            }
        }
        guard found >= 0 else { throw Self.brokenLogits(logits) }
        candidates.removeAll(keepingCapacity: true)
        for i in 0..<Int(found) { candidates.append(Candidate(logit: selectedValues[i], token: selectedIDs[i])) }
        // Penalised tokens: their raw entries leave, their penalised values come in.
        if !penalised.isEmpty {
            candidates.removeAll { c in penalised.contains { $0.token == c.token } }
            for entry in penalised {
                candidates.append(Candidate(logit: penalise(base[Int(entry.token)], count: entry.logit), token: entry.token))
            }
        }
        candidates.sort { $0.beats($1) }
        if candidates.count > m { candidates.removeSubrange(m...) }
        guard candidates[0].logit > -.infinity else { throw ModelError("every logit is -infinity: there is no token to sample") }
    }

    /// Top-k off: grow the selection until top-p's mass or min-p's threshold is inside it; with neither, draw
    /// from the whole distribution.
    private mutating func sampleWithoutTopK(_ logits: UnsafeBufferPointer<Float>) throws(ModelError) -> Int32 {
        let p = parameters
        let n = logits.count
        guard p.topP < 1 || p.minP > 0 else { return try drawFromAll(logits) }
        var m = min(n, Self.initialSelection)
        // Top-p's denominator: the whole distribution's, computed once (the maximum is the same in every round).
        var total: Float?
        while true {
            try select(m, from: logits)
            if m == n { break }
            let top = candidates[0].logit
            if p.topP < 1 {
                let whole = total ?? normalizer(logits, max: top)
                total = whole
                var inside: Float = 0
                for c in candidates { inside += ck_expf(c.logit - top) }
                if inside / whole >= p.topP { break }
            } else if candidates[candidates.count - 1].logit < top + ck_logf(p.minP) {
                break
            }
            m = min(n, m * 8)
        }
        return try finishChain(fullNormalizer: total)
    }

    /// Σ exp(logit − max) over the whole vocabulary, penalties included.
    private func normalizer(_ logits: UnsafeBufferPointer<Float>, max top: Float) -> Float {
        var sum: Float = 0
        for value in logits { sum += ck_expf(value - top) }
        for entry in penalised {
            let raw = logits[Int(entry.token)]
            sum += ck_expf(penalise(raw, count: entry.logit) - top) - ck_expf(raw - top)
        }
        return sum
    }

    // MARK: - The chain on the survivors

    /// Top-p, min-p and temperature on `candidates` (best first), then the draw. `fullNormalizer`: top-p's
    /// denominator when the survivors are not the whole distribution top-p sees (top-k off).
    private mutating func finishChain(fullNormalizer: Float? = nil) throws(ModelError) -> Int32 {
        let p = parameters
        if p.temperature == 0 { return candidates[0].token }
        let top = candidates[0].logit
        if p.topP < 1 {
            // llama.cpp's top-p: the smallest prefix whose probability reaches p (at least one token).
            var total: Float = 0
            if let fullNormalizer {
                total = fullNormalizer
            } else {
                for c in candidates { total += ck_expf(c.logit - top) }
            }
            var cumulative: Float = 0
            var keep = candidates.count
            for (i, c) in candidates.enumerated() {
                cumulative += ck_expf(c.logit - top) / total
                if cumulative >= p.topP {
                    keep = i + 1
                    break
                }
            }
            candidates.removeSubrange(keep...)
        }
        if p.minP > 0 {
            // llama.cpp's min-p, in logit space: keep logits at least max + ln(p).
            let threshold = top + ck_logf(p.minP)
            var keep = 1
            while keep < candidates.count && candidates[keep].logit >= threshold { keep += 1 }
            candidates.removeSubrange(keep...)
        }
        // Temperature, softmax, draw.
        probabilities.removeAll(keepingCapacity: true)
        var sum: Float = 0
        for c in candidates {
            let e = ck_expf((c.logit - top) / p.temperature)
            probabilities.append(e)
            sum += e
        }
        let draw = Float(random.nextUnit()) * sum
        var cumulative: Float = 0
        for (i, e) in probabilities.enumerated() {
            cumulative += e
            if draw < cumulative { return candidates[i].token }
        }
        return candidates[candidates.count - 1].token
    }

    /// No truncation: a draw from softmax(logits / temperature) over the whole vocabulary, in token order.
    private mutating func drawFromAll(_ logits: UnsafeBufferPointer<Float>) throws(ModelError) -> Int32 {
        let p = parameters
        var top = -Float.infinity
        for value in logits {
            guard value < .infinity else { throw Self.brokenLogits(logits) }
            top = max(top, value)
        }
        // The window's penalised tokens, by token id: the walks below step through them beside the vocabulary
        // instead of looking each position up.
        let adjusted = penalised.map { (token: Int($0.token), logit: penalise(logits[Int($0.token)], count: $0.logit)) }
            .sorted { $0.token < $1.token }
        for entry in adjusted { top = max(top, entry.logit) }
        guard top > -.infinity else { throw ModelError("every logit is -infinity: there is no token to sample") }
        var sum: Float = 0
        for value in logits { sum += ck_expf((value - top) / p.temperature) }
        for entry in adjusted {
            sum += ck_expf((entry.logit - top) / p.temperature) - ck_expf((logits[entry.token] - top) / p.temperature)
        }
        let draw = Float(random.nextUnit()) * sum
        var cumulative: Float = 0
        var next = 0
        for i in 0..<logits.count {
            var value = logits[i]
            if next < adjusted.count && adjusted[next].token == i {
                value = adjusted[next].logit
                next += 1
            }
            cumulative += ck_expf((value - top) / p.temperature)
            if draw < cumulative { return Int32(i) }
        }
        return Int32(logits.count - 1)
    }

    // MARK: - Greedy

    /// The first index of the largest logit (llama.cpp's greedy sampler picks the first maximum too).
    public static func argmax(_ logits: UnsafeBufferPointer<Float>) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for i in 0..<logits.count where logits[i] > bestValue {
            bestValue = logits[i]
            best = i
        }
        return Int32(best)
    }

    /// argmax through the selection kernel (k = 1 keeps the first maximum), refusing broken logits.
    private static func checkedArgmax(_ logits: UnsafeBufferPointer<Float>) throws(ModelError) -> Int32 {
        var value: Float = 0
        var token: Int32 = 0
        guard ck_select_top(logits.baseAddress!, Int64(logits.count), 1, &value, &token) >= 0 else { throw brokenLogits(logits) }
        guard value > -.infinity else { throw ModelError("every logit is -infinity: there is no token to sample") }
        return token
    }

    private static func brokenLogits(_ logits: UnsafeBufferPointer<Float>) -> ModelError {
        let at = logits.firstIndex { !($0 < .infinity) } ?? 0
        return ModelError("the model produced a logit of \(logits[at]) (token \(at)): refusing to sample from it")
    }
}
