// The attention step every architecture shares: keys and values into the fp16 cache, then grouped-query
// attention of each query head over the cached positions it may see, for every sequence of a batch at once.
import CKernels
import Kernels

/// One sequence's part of a batch: `count` consecutive tokens appended to `cache` after what it holds.
public struct BatchSegment {
    public let cache: KVCache
    public let count: Int
    /// Logit rows wanted for the segment's last tokens: 0 (prompt only), 1 (the next token) or up to count.
    public let logitRows: Int

    public init(cache: KVCache, count: Int, logitRows: Int) {
        self.cache = cache
        self.count = count
        self.logitRows = logitRows
    }
}

extension KVCache {
    /// Stores one position's keys and values ([width] floats each) for `layer`.
    func store(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        ck_fp32_to_fp16_row(keys, key(layer: layer, position: position), Int64(width))
        ck_fp32_to_fp16_row(values, value(layer: layer, position: position), Int64(width))
    }
}

enum Attention {
    /// Rows below this many per thread are not worth waking a thread for (a decoding step runs on the caller).
    static let rowsPerThread = 8

    /// Each row's cache and position in a batch of `segments`.
    static func rows(_ segments: [BatchSegment]) -> ([KVCache], [Int]) {
        var caches: [KVCache] = []
        var positions: [Int] = []
        for segment in segments {
            for i in 0..<segment.count {
                caches.append(segment.cache)
                positions.append(segment.cache.count + i)
            }
        }
        return (caches, positions)
    }

    /// Checks a batch before a forward pass: segments non-empty, distinct caches of the model's width, room in each.
    static func check(_ segments: [BatchSegment], tokens: Int, width: Int, scratch: ForwardScratch) {
        precondition(!segments.isEmpty && tokens > 0 && tokens <= scratch.batchCapacity, "batch of \(tokens) tokens does not fit")
        var total = 0
        for (i, s) in segments.enumerated() {
            precondition(s.count > 0 && s.logitRows >= 0 && s.logitRows <= s.count, "segment \(i) is empty or wants too many logits")
            precondition(s.cache.width == width && s.cache.count + s.count <= s.cache.capacity, "segment \(i) does not fit its cache")
            for j in 0..<i { precondition(segments[j].cache !== s.cache, "two segments share a cache") }
            total += s.count
        }
        precondition(total == tokens, "segments cover \(total) tokens of \(tokens)")
    }

    /// Attention for every row of the batch ([rows][heads*headDim] in `queries` and `output`); row t of segment s
    /// sits at position s.cache.count + t (its keys already stored) and sees itself and the positions before it,
    /// at most `window` of them (0: no window). Query head h reads kv head h / (heads / kvHeads).
    static func attend(_ segments: [BatchSegment], layer: Int, queries: UnsafePointer<Float>, heads: Int, headDim: Int,
                       window: Int, scale: Float, scratch: ForwardScratch, output: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let rowWidth = heads * headDim
        let items = scratch.attendItems
        var count = 0
        var maxKV = 1
        var row = 0
        for segment in segments {
            let cache = segment.cache
            let group = heads / (cache.width / headDim)
            for t in 0..<segment.count {
                let position = cache.count + t
                let first = window > 0 ? max(0, position - window + 1) : 0
                maxKV = max(maxKV, position - first + 1)
                for h in 0..<heads {
                    let kvOffset = (h / group) * headDim
                    items[count] = ck_attend_item(q: queries + row * rowWidth + h * headDim,
                                                  k: UnsafePointer(cache.key(layer: layer, position: first) + kvOffset),
                                                  v: UnsafePointer(cache.value(layer: layer, position: first) + kvOffset),
                                                  n_kv: Int64(position - first + 1), out: output + row * rowWidth + h * headDim)
                    count += 1
                }
                row += 1
            }
        }
        let width = segments[0].cache.width
        let rc = ck_attend_many(pool.handle, items, Int64(count), Int64(width), Int64(width), Int64(headDim), scale, 0, Int64(maxKV))
        precondition(rc == CK_OK, "attention over \(count) heads failed: \(rc)")
    }
}

extension Attention {
    /// After the layers: advances every segment's cache past its tokens and gathers the rows that want logits
    /// (the last logitRows of each segment, in segment order), RMS-normed with `norm`, into `out`. Returns how many.
    static func finish(_ segments: [BatchSegment], normalizing x: UnsafePointer<Float>, width: Int, with norm: [Float], eps: Float,
                       into out: UnsafeMutablePointer<Float>) -> Int {
        var row = 0, rows = 0
        for segment in segments {
            for t in (segment.count - segment.logitRows)..<segment.count {
                ck_rmsnorm(x + (row + t) * width, norm, out + rows * width, Int64(width), eps)
                rows += 1
            }
            row += segment.count
            segment.cache.count += segment.count
        }
        return rows
    }
}
