// KL divergence against a base model's log-probabilities, as llama.cpp's `llama-perplexity --kl-divergence` computes
// it from the file `--kl-divergence-base` wrote: the same chunks and tokens, every scored position's full
// distribution compared with the base's, and the same summary (mean KLD with its uncertainty, percentiles, how often
// the top token agrees, Δp of the right token).
//
// The base file, little-endian: "_logits_", u32 n_ctx, i32 n_vocab, i32 n_chunk, i32 tokens[n_ctx * n_chunk], then
// per chunk (n_ctx - 1 - n_ctx/2) rows of nv = 2*((n_vocab + 1)/2) + 4 u16 words: the row starts with two f32
// (scale, min_log_prob), then one u16 per token: log p = scale * q + min_log_prob.
import CKernels

public struct KLDivergenceBase: Sendable {
    public let contextLength: Int
    public let vocabularySize: Int
    public let chunks: Int
    /// The evaluated tokens, as the base run tokenized its text (the first of each chunk is replaced by BOS when
    /// the model adds one).
    public let tokens: [Int32]
    /// u16 words per row.
    public let rowWords: Int
    /// Rows per chunk: the scored positions n_ctx/2 ..< n_ctx - 1.
    public var rowsPerChunk: Int { contextLength - 1 - contextLength / 2 }
    /// Byte offset of the first row of chunk 0.
    public let rowsOffset: Int

    static let magic = Array("_logits_".utf8)

    /// Reads and checks the header against the whole file's size; `file` names it in errors.
    public init(_ bytes: UnsafeRawBufferPointer, file: String) throws(ModelError) {
        let header = 8 + 12
        guard bytes.count >= header, Array(bytes[0..<8]) == Self.magic else {
            throw ModelError("\(file) is not a llama.cpp log-probability file (written by llama-perplexity --kl-divergence-base): "
                             + "it does not start with \"_logits_\"")
        }
        let nCtx = Int(bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian)
        let nVocab = Int(bytes.loadUnaligned(fromByteOffset: 12, as: Int32.self).littleEndian)
        let nChunk = Int(bytes.loadUnaligned(fromByteOffset: 16, as: Int32.self).littleEndian)
        guard nCtx >= 4, nCtx <= 1 << 20, nVocab >= 2, nVocab <= 1 << 24, nChunk >= 1, nChunk <= 1 << 20 else {
            throw ModelError("\(file) has an implausible header: context \(nCtx), vocabulary \(nVocab), chunks \(nChunk)")
        }
        contextLength = nCtx
        vocabularySize = nVocab
        chunks = nChunk
        rowWords = 2 * ((nVocab + 1) / 2) + 4
        let tokenBytes = nCtx * nChunk * 4
        rowsOffset = header + tokenBytes
        let expected = rowsOffset + nChunk * (nCtx - 1 - nCtx / 2) * rowWords * 2
        guard bytes.count >= expected else {
            throw ModelError("\(file) is truncated: \(bytes.count) bytes where \(nChunk) chunk(s) of \(nCtx) tokens over a vocabulary "
                             + "of \(nVocab) need \(expected)")
        }
        var tokens = [Int32](repeating: 0, count: nCtx * nChunk)
        for i in tokens.indices {
            let token = bytes.loadUnaligned(fromByteOffset: header + 4 * i, as: Int32.self).littleEndian
            guard token >= 0 && Int(token) < nVocab else {
                throw ModelError("\(file): token \(token) at position \(i) is outside the vocabulary of \(nVocab)")
            }
            tokens[i] = token
        }
        self.tokens = tokens
    }

    /// The base row of chunk `chunk`, scored position `row` (0 is position n_ctx/2).
    func row(_ bytes: UnsafeRawBufferPointer, chunk: Int, row: Int) -> UnsafeRawBufferPointer {
        let start = rowsOffset + ((chunk * rowsPerChunk) + row) * rowWords * 2
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + rowWords * 2)])
    }
}

/// Running sums over the scored tokens, and each token's KLD and Δp for the percentiles.
public struct KLDivergenceResult: Sendable {
    public var count = 0
    public var sumNLL = 0.0, sumNLL2 = 0.0
    public var sumNLLBase = 0.0, sumNLLBase2 = 0.0, sumNLLNLLBase = 0.0
    public var sumKLD = 0.0, sumKLD2 = 0.0
    public var sumPDiff = 0.0, sumPDiff2 = 0.0, sumPDiff4 = 0.0
    public var maxPDiff: Float = 0
    public var sameTop = 0
    public var kldValues: [Float] = []
    public var pDiffValues: [Float] = []

    /// llama.cpp's mean and uncertainty of the mean (0 uncertainty for 10 values or fewer).
    public static func meanAndUncertainty(_ sum: Double, _ sum2: Double, _ count: Int) -> (Double, Double) {
        guard count >= 1 else { return (0, 0) }
        let mean = sum / Double(count)
        let variance = sum2 / Double(count) - mean * mean
        return (mean, variance > 0 && count > 10 ? (variance / Double(count - 1)).squareRoot() : 0)
    }

    public var meanKLD: (Double, Double) { Self.meanAndUncertainty(sumKLD, sumKLD2, count) }
    public var logPerplexity: (Double, Double) { Self.meanAndUncertainty(sumNLL, sumNLL2, count) }
    public var logPerplexityBase: (Double, Double) { Self.meanAndUncertainty(sumNLLBase, sumNLLBase2, count) }
    /// PPL and its uncertainty, ours and the base's.
    public var perplexity: (Double, Double) { let (m, u) = logPerplexity; return (ck_exp(m), ck_exp(m) * u) }
    public var perplexityBase: (Double, Double) { let (m, u) = logPerplexityBase; return (ck_exp(m), ck_exp(m) * u) }
    public var meanPDiff: (Double, Double) { Self.meanAndUncertainty(sumPDiff, sumPDiff2, count) }
    /// Root mean square of Δp and its uncertainty.
    public var rmsPDiff: (Double, Double) {
        let (mse, uncertainty) = Self.meanAndUncertainty(sumPDiff2, sumPDiff4, count)
        let rms = mse.squareRoot()
        return (rms, rms > 0 ? 0.5 / rms * uncertainty : 0)
    }
    /// How often the most likely token is the base's, and its uncertainty.
    public var sameTopFraction: (Double, Double) {
        let fraction = Double(sameTop) / Double(max(count, 1))
        return (fraction, count > 1 ? (fraction * (1 - fraction) / Double(count - 1)).squareRoot() : 0)
    }

    /// llama.cpp's percentile: linear between the sorted values around fraction × (count − 1).
    public static func percentile(_ sorted: [Float], _ fraction: Float) -> Float {
        guard let first = sorted.first, let last = sorted.last else { return 0 }
        if fraction <= 0 { return first }
        if fraction >= 1 { return last }
        var p = fraction * Float(sorted.count - 1)
        let index = Int(p)
        p -= Float(index)
        return (1 - p) * sorted[index] + p * sorted[min(index + 1, sorted.count - 1)]
    }

    /// Adds one scored position: `logits` ours, `base` the base file's row, `token` the next token of the text.
    mutating func add(_ logits: UnsafeBufferPointer<Float>, base: UnsafeRawBufferPointer, token: Int) {
        let n = logits.count
        var maxLogit = logits[0]
        var top = 0
        for i in 1..<n where logits[i] > maxLogit {
            maxLogit = logits[i]
            top = i
        }
        var sumExp = 0.0
        for i in 0..<n { sumExp += Double(ck_expf(logits[i] - maxLogit)) }
        let logSumExp = Float(ck_log(sumExp))
        let scale = base.loadUnaligned(fromByteOffset: 0, as: Float.self)
        let minLogProb = base.loadUnaligned(fromByteOffset: 4, as: Float.self)
        func baseLogProb(_ i: Int) -> Float {
            scale * Float(base.loadUnaligned(fromByteOffset: 8 + 2 * i, as: UInt16.self).littleEndian) + minLogProb
        }
        let nll = maxLogit + logSumExp - logits[token]
        sumNLL += Double(nll)
        sumNLL2 += Double(nll) * Double(nll)
        let nllBase = -baseLogProb(token)
        sumNLLBase += Double(nllBase)
        sumNLLBase2 += Double(nllBase) * Double(nllBase)
        sumNLLNLLBase += Double(nll) * Double(nllBase)

        let logZ = maxLogit + logSumExp
        var kld = 0.0
        var topBase = -1
        var topBaseLogProb: Float = 0
        for i in 0..<n {
            let logProbBase = baseLogProb(i)
            if i == 0 || logProbBase > topBaseLogProb {
                topBaseLogProb = logProbBase
                topBase = i
            }
            if logProbBase > -16 {
                kld += Double(ck_expf(logProbBase) * (logProbBase - logits[i] + logZ))
            }
        }
        sumKLD += kld
        sumKLD2 += kld * kld
        count += 1
        if top == topBase { sameTop += 1 }
        let pDiff = ck_expf(-nll) - ck_expf(-nllBase)
        sumPDiff += Double(pDiff)
        sumPDiff2 += Double(pDiff) * Double(pDiff)
        sumPDiff4 += Double(pDiff) * Double(pDiff) * Double(pDiff) * Double(pDiff)
        maxPDiff = max(maxPDiff, abs(pDiff))
        kldValues.append(Float(kld))
        pDiffValues.append(pDiff)
    }
}

public enum KLDivergence {
    /// Evaluates every chunk of `base` with `context` (whose context length must be the base's) and compares each
    /// scored position with the base's log-probabilities in `bytes`. `onChunk(done, total, running)` follows progress.
    public static func compute(context: InferenceContext, base: KLDivergenceBase, bytes: UnsafeRawBufferPointer, bos: Int32?,
                               onChunk: (Int, Int, KLDivergenceResult) -> Void = { _, _, _ in }) throws(ModelError) -> KLDivergenceResult {
        guard base.vocabularySize == context.vocabularySize else {
            throw ModelError("the base file's vocabulary has \(base.vocabularySize) tokens, this model's \(context.vocabularySize): "
                             + "the base was written for another model family")
        }
        guard base.contextLength == context.contextLength else {
            throw ModelError("the base file was written with chunks of \(base.contextLength) tokens; evaluate with a context of "
                             + "\(base.contextLength), not \(context.contextLength)")
        }
        var result = KLDivergenceResult()
        let n = base.contextLength
        let first = n / 2
        for chunk in 0..<base.chunks {
            try Perplexity.evaluate(context: context, chunk: base.tokens[(chunk * n)..<((chunk + 1) * n)], bos: bos) { position, row in
                let token = Int(base.tokens[chunk * n + position + 1])
                result.add(row, base: base.row(bytes, chunk: chunk, row: position - first), token: token)
            }
            onChunk(chunk + 1, base.chunks, result)
        }
        result.kldValues.sort()
        result.pDiffValues.sort()
        return result
    }
}
