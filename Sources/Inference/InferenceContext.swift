// One conversation's state on a model: its KV cache, scratch buffers and logits, sized once at creation.
import Kernels

public final class InferenceContext {
    public let model: any LanguageModel
    public let contextLength: Int
    public let batchCapacity: Int
    public let cache: KVCache
    let scratch: ForwardScratch
    let pool: ThreadPool
    /// [logitRows][vocabulary].
    private let logits: UnsafeMutablePointer<Float>
    private let logitRows: Int

    /// `contextLength` positions at most; prompts are evaluated `batchCapacity` tokens at a time.
    /// `allLogits`: keep every row's logits of a batch (perplexity) instead of only the last one (generation);
    /// that costs batchCapacity x vocabulary floats.
    public init(model: any LanguageModel, contextLength: Int, batchCapacity: Int = 64, threads: Int,
                allLogits: Bool = false) throws(ModelError) {
        guard contextLength > 0 else { throw ModelError("context length must be positive, got \(contextLength)") }
        guard contextLength <= model.info.trainedContextLength else {
            throw ModelError("context length \(contextLength) exceeds the model's trained context of \(model.info.trainedContextLength)")
        }
        guard batchCapacity > 0 else { throw ModelError("batch size must be positive") }
        guard threads > 0, threads <= 256 else { throw ModelError("threads must be between 1 and 256, got \(threads)") }
        self.model = model
        self.contextLength = contextLength
        self.batchCapacity = min(batchCapacity, contextLength)
        cache = KVCache(layers: model.info.layers, capacity: contextLength, width: model.kvWidth)
        scratch = ForwardScratch(sizes: model.scratchSizes(batch: self.batchCapacity, contextLength: contextLength),
                                 batchCapacity: self.batchCapacity)
        pool = ThreadPool(threads: threads)
        logitRows = allLogits ? self.batchCapacity : 1
        logits = .allocate(capacity: logitRows * model.info.vocabularySize)
    }

    deinit { logits.deallocate() }

    public var vocabularySize: Int { model.info.vocabularySize }
    /// Tokens in the cache.
    public var position: Int { cache.count }
    public var threads: Int { pool.threadCount }
    /// Bytes this context allocated (cache, scratch, logits).
    public var byteCount: Int { cache.byteCount + scratch.byteCount + logitRows * vocabularySize * 4 }

    /// Forgets everything after the first `count` cached tokens.
    public func rewind(to count: Int) { cache.truncate(to: count) }

    /// Evaluates `tokens` after what is cached and returns the logits of the last one.
    public func evaluate(_ tokens: [Int32]) throws(ModelError) -> UnsafeBufferPointer<Float> {
        try check(tokens)
        var offset = 0
        while offset < tokens.count {
            let count = min(batchCapacity, tokens.count - offset)
            tokens.withUnsafeBufferPointer { all in
                model.forward(UnsafeBufferPointer(rebasing: all[offset..<(offset + count)]),
                              segments: [BatchSegment(cache: cache, count: count, logitRows: offset + count == tokens.count ? 1 : 0)],
                              scratch: scratch, logits: logits, pool: pool)
            }
            offset += count
        }
        return UnsafeBufferPointer(start: logits, count: vocabularySize)
    }

    /// Evaluates at most `batchCapacity` tokens and returns every one's logits: [tokens.count][vocabulary].
    public func evaluateAll(_ tokens: [Int32]) throws(ModelError) -> UnsafeBufferPointer<Float> {
        guard tokens.count <= logitRows else {
            throw ModelError("\(tokens.count) tokens exceed the \(logitRows) logit row(s) this context keeps")
        }
        try check(tokens)
        tokens.withUnsafeBufferPointer { all in
            model.forward(all, segments: [BatchSegment(cache: cache, count: all.count, logitRows: all.count)], scratch: scratch,
                          logits: logits, pool: pool)
        }
        return UnsafeBufferPointer(start: logits, count: tokens.count * vocabularySize)
    }

    private func check(_ tokens: [Int32]) throws(ModelError) {
        guard !tokens.isEmpty else { throw ModelError("nothing to evaluate: no tokens") }
        guard cache.count + tokens.count <= contextLength else {
            throw ModelError("\(cache.count + tokens.count) tokens do not fit the context of \(contextLength); use a larger context or a shorter prompt")
        }
        for token in tokens where token < 0 || Int(token) >= vocabularySize {
            throw ModelError("token id \(token) is outside the vocabulary of \(vocabularySize)")
        }
    }
}
