// Several sequences on one model advanced together: each step is one forward pass over a batch made of every
// active sequence's next tokens, so the weights are read once per step however many sequences run. Each slot
// keeps its KV cache and the tokens it holds after a sequence ends, so a later prompt that shares a prefix with
// them (a follow-up chat turn) does not recompute it.
import Kernels

public final class BatchEngine {
    public let model: any LanguageModel
    public let contextLength: Int
    public let batchCapacity: Int
    private let caches: [KVCache]
    private let scratch: ForwardScratch
    private let pool: ThreadPool
    /// [slots][vocabulary]: one row per sequence that asked for logits in the last step.
    private let logits: UnsafeMutablePointer<Float>
    /// The tokens each slot's cache holds, in order.
    public private(set) var cached: [[Int32]]

    /// `slots` sequences of up to `contextLength` tokens; at most `batchCapacity` tokens per step.
    public init(model: any LanguageModel, slots: Int, contextLength: Int, batchCapacity: Int, threads: Int) throws(ModelError) {
        guard slots >= 1 && slots <= 256 else { throw ModelError("parallel sequences must be between 1 and 256, got \(slots)") }
        guard contextLength > 0 && contextLength <= model.info.trainedContextLength else {
            throw ModelError("context length \(contextLength) must be between 1 and the model's trained context of \(model.info.trainedContextLength)")
        }
        guard batchCapacity >= slots else { throw ModelError("batch size \(batchCapacity) is below the \(slots) parallel sequences") }
        guard threads > 0, threads <= 256 else { throw ModelError("threads must be between 1 and 256, got \(threads)") }
        self.model = model
        self.contextLength = contextLength
        self.batchCapacity = batchCapacity
        caches = (0..<slots).map { _ in KVCache(layers: model.info.layers, capacity: contextLength, width: model.kvWidth) }
        scratch = ForwardScratch(sizes: model.scratchSizes(batch: batchCapacity, contextLength: contextLength), batchCapacity: batchCapacity)
        pool = ThreadPool(threads: threads)
        logits = .allocate(capacity: slots * model.info.vocabularySize)
        cached = Array(repeating: [], count: slots)
    }

    deinit { logits.deallocate() }

    /// Bytes an engine with these settings allocates (KV caches, scratch, logits), for memory budgets.
    public static func byteCount(model: any LanguageModel, slots: Int, contextLength: Int, batchCapacity: Int) -> Int {
        let cache = KVCache.byteCount(layers: model.info.layers, capacity: contextLength, width: model.kvWidth)
        let scratch = ForwardScratch.byteCount(sizes: model.scratchSizes(batch: batchCapacity, contextLength: contextLength),
                                               batchCapacity: batchCapacity)
        return slots * cache + scratch + slots * model.info.vocabularySize * 4
    }

    public var slots: Int { caches.count }
    public var vocabularySize: Int { model.info.vocabularySize }

    /// Tokens at the start of `tokens` that `slot` already holds.
    public func commonPrefix(slot: Int, with tokens: [Int32]) -> Int {
        let held = cached[slot]
        var n = 0
        let limit = min(held.count, tokens.count)
        while n < limit && held[n] == tokens[n] { n += 1 }
        return n
    }

    /// Keeps only the first `count` tokens of `slot`.
    public func rewind(slot: Int, to count: Int) {
        let keep = max(0, min(count, cached[slot].count))
        caches[slot].truncate(to: keep)
        cached[slot].removeSubrange(keep...)
    }

    /// Tokens in `slot`'s cache.
    public func position(slot: Int) -> Int { cached[slot].count }

    /// One sequence's tokens in a step.
    public struct Work {
        public let slot: Int
        public let tokens: [Int32]
        /// Whether to return the logits after the last of `tokens`.
        public let wantsLogits: Bool
        public init(slot: Int, tokens: [Int32], wantsLogits: Bool) {
            self.slot = slot
            self.tokens = tokens
            self.wantsLogits = wantsLogits
        }
    }

    /// Checks a step's work: distinct slots, room in each cache, tokens inside the vocabulary, a batch that fits.
    public func check(_ work: [Work]) throws(ModelError) {
        var total = 0
        var seen = Set<Int>()
        for w in work {
            guard w.slot >= 0 && w.slot < slots, seen.insert(w.slot).inserted else { throw ModelError("slot \(w.slot) is invalid or used twice") }
            guard !w.tokens.isEmpty else { throw ModelError("slot \(w.slot) has no tokens to evaluate") }
            guard cached[w.slot].count + w.tokens.count <= contextLength else {
                throw ModelError("\(cached[w.slot].count + w.tokens.count) tokens do not fit the context of \(contextLength)")
            }
            for token in w.tokens where token < 0 || Int(token) >= vocabularySize {
                throw ModelError("token id \(token) is outside the vocabulary of \(vocabularySize)")
            }
            total += w.tokens.count
        }
        guard total > 0 && total <= batchCapacity else { throw ModelError("a step of \(total) tokens does not fit the batch of \(batchCapacity)") }
    }

    /// Runs one forward pass over `work` and returns, for each item in order, the logits after its last token
    /// (nil where not wanted). The buffers stay valid until the next step.
    public func step(_ work: [Work]) throws(ModelError) -> [UnsafeBufferPointer<Float>?] {
        try check(work)
        let tokens = work.flatMap(\.tokens)
        let segments = work.map { BatchSegment(cache: caches[$0.slot], count: $0.tokens.count, logitRows: $0.wantsLogits ? 1 : 0) }
        tokens.withUnsafeBufferPointer { model.forward($0, segments: segments, scratch: scratch, logits: logits, pool: pool) }
        var row = 0
        var out: [UnsafeBufferPointer<Float>?] = []
        out.reserveCapacity(work.count)
        for w in work {
            cached[w.slot] += w.tokens
            if w.wantsLogits {
                out.append(UnsafeBufferPointer(start: logits + row * vocabularySize, count: vocabularySize))
                row += 1
            } else {
                out.append(nil)
            }
        }
        return out
    }
}
