// Perplexity as llama.cpp's `llama-perplexity` computes it: the text is cut into chunks of `contextLength`
// tokens (the first of each replaced by BOS when the model adds one); each chunk is evaluated from an empty
// cache and only its second half is scored, so every scored token has at least half a context before it.
import CKernels

public struct PerplexityResult: Sendable {
    public let perplexity: Double
    public let chunks: Int
    public let scoredTokens: Int
    /// Running perplexity after each chunk (llama.cpp prints these as [1]x,[2]y,...).
    public let perChunk: [Double]
}

public enum Perplexity {
    public static func compute(context: InferenceContext, tokens: [Int32], bos: Int32?,
                               onChunk: (Int, Int, Double) -> Void = { _, _, _ in }) throws(ModelError) -> PerplexityResult {
        let n = context.contextLength
        let chunks = tokens.count / n
        guard chunks > 0 else {
            throw ModelError("the text has \(tokens.count) tokens; perplexity needs at least one context of \(n) (use a smaller --ctx)")
        }
        var nll = 0.0
        var count = 0
        var running: [Double] = []
        for chunk in 0..<chunks {
            try evaluate(context: context, chunk: tokens[(chunk * n)..<((chunk + 1) * n)], bos: bos) { position, row in
                nll -= logSoftmax(row, at: Int(tokens[chunk * n + position + 1]))
                count += 1
            }
            running.append(ck_exp(nll / Double(count)))
            onChunk(chunk + 1, chunks, running[running.count - 1])
        }
        return PerplexityResult(perplexity: ck_exp(nll / Double(count)), chunks: chunks, scoredTokens: count, perChunk: running)
    }

    /// Evaluates one chunk (its first token replaced by `bos`) from an empty cache, in batches of the context's
    /// batch capacity, and hands `body` the logits of every scored position: the second half but the last.
    static func evaluate(context: InferenceContext, chunk: ArraySlice<Int32>, bos: Int32?,
                         body: (Int, UnsafeBufferPointer<Float>) -> Void) throws(ModelError) {
        let n = chunk.count
        let vocab = context.vocabularySize
        var tokens = Array(chunk)
        if let bos { tokens[0] = bos }
        context.rewind(to: 0)
        let first = n / 2
        var offset = 0
        while offset < n {
            let batch = Array(tokens[offset..<min(n, offset + context.batchCapacity)])
            let logits = try context.evaluateAll(batch)
            for i in 0..<batch.count {
                let position = offset + i
                guard position >= first, position < n - 1 else { continue }
                body(position, UnsafeBufferPointer(rebasing: logits[(i * vocab)..<((i + 1) * vocab)]))
            }
            offset += batch.count
        }
    }

    /// log p(target) under softmax(logits), accumulated in double like llama.cpp.
    static func logSoftmax(_ logits: UnsafeBufferPointer<Float>, at target: Int) -> Double {
        var maximum = -Float.infinity
        for value in logits where value > maximum { maximum = value }
        var sum = 0.0
        for value in logits { sum += ck_exp(Double(value - maximum)) }
        return Double(logits[target] - maximum) - ck_log(sum)
    }
}
