// Picks the next token from logits: penalties, top-k, top-p, min-p, temperature, then a seeded draw
// (llama.cpp's default chain order). Temperature 0 is plain argmax.
import CKernels

public struct Sampler {
    public let parameters: SamplingParameters
    private var random: Xoshiro256
    /// (token, logit) candidates, reused between calls.
    private var candidates: [(token: Int32, logit: Float)] = []

    public init(_ parameters: SamplingParameters) throws(ModelError) {
        self.parameters = try parameters.validated()
        random = Xoshiro256(seed: parameters.seed ?? Xoshiro256.entropySeed())
    }

    /// `history`: tokens generated and prompted so far (for the penalties).
    public mutating func sample(_ logits: UnsafeBufferPointer<Float>, history: [Int32]) -> Int32 {
        let p = parameters
        let penalised = p.repeatPenalty != 1 || p.presencePenalty != 0 || p.frequencyPenalty != 0
        if p.temperature == 0 && !penalised { return Self.argmax(logits) }

        candidates.removeAll(keepingCapacity: true)
        candidates.reserveCapacity(logits.count)
        for (i, logit) in logits.enumerated() { candidates.append((Int32(i), logit)) }
        if penalised { applyPenalties(history) }
        if p.temperature == 0 {
            return candidates.max { $0.logit < $1.logit || ($0.logit == $1.logit && $0.token > $1.token) }!.token
        }

        // Sorted descending; top-k first keeps the sort cheap.
        let k = p.topK > 0 ? min(p.topK, candidates.count) : candidates.count
        if k < candidates.count {
            candidates = Array(candidates.sorted { $0.logit > $1.logit }.prefix(k))
        } else {
            candidates.sort { $0.logit > $1.logit }
        }
        var probabilities = softmax(candidates.map(\.logit), temperature: 1)
        if p.topP < 1 {
            var cumulative: Float = 0
            var keep = probabilities.count
            for (i, probability) in probabilities.enumerated() {
                cumulative += probability
                if cumulative >= p.topP {
                    keep = i + 1
                    break
                }
            }
            candidates.removeSubrange(keep...)
            probabilities = softmax(candidates.map(\.logit), temperature: 1)
        }
        if p.minP > 0, let top = probabilities.first {
            let threshold = top * p.minP
            let keep = max(1, probabilities.prefix { $0 >= threshold }.count)
            candidates.removeSubrange(keep...)
        }
        probabilities = softmax(candidates.map(\.logit), temperature: p.temperature)
        let draw = Float(random.nextUnit())
        var cumulative: Float = 0
        for (i, probability) in probabilities.enumerated() {
            cumulative += probability
            if draw < cumulative { return candidates[i].token }
        }
        return candidates[candidates.count - 1].token
    }

    private mutating func applyPenalties(_ history: [Int32]) {
        let p = parameters
        var counts: [Int32: Int] = [:]
        for token in history.suffix(p.penaltyWindow) { counts[token, default: 0] += 1 }
        for (token, count) in counts where Int(token) < candidates.count && token >= 0 {
            var logit = candidates[Int(token)].logit
            if p.repeatPenalty != 1 { logit = logit <= 0 ? logit * p.repeatPenalty : logit / p.repeatPenalty }
            logit -= Float(count) * p.frequencyPenalty + p.presencePenalty
            candidates[Int(token)].logit = logit
        }
    }

    private func softmax(_ logits: [Float], temperature: Float) -> [Float] {
        guard let maximum = logits.first.map({ _ in logits.max()! }) else { return [] }
        var exps = logits.map { ck_expf(($0 - maximum) / temperature) }
        let sum = exps.reduce(0, +)
        for i in exps.indices { exps[i] /= sum }
        return exps
    }

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
}
