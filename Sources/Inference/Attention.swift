// The attention step every architecture shares: keys and values into the fp16 cache, then grouped-query
// attention of each query head over the cached positions it may see.
import CKernels

extension KVCache {
    /// Stores one position's keys and values ([width] floats each) for `layer`.
    func store(layer: Int, position: Int, keys: UnsafePointer<Float>, values: UnsafePointer<Float>) {
        ck_fp32_to_fp16_row(keys, key(layer: layer, position: position), Int64(width))
        ck_fp32_to_fp16_row(values, value(layer: layer, position: position), Int64(width))
    }

    /// Attention for `count` query rows at positions `start...` ([count][heads*headDim] in `queries` and `output`).
    /// Each position sees itself and the positions before it, at most `window` of them (0: no window).
    /// Query head h reads kv head h / (heads / kvHeads). `scores` holds at least `capacity` floats.
    func attend(layer: Int, queries: UnsafePointer<Float>, heads: Int, headDim: Int, start: Int, count: Int, window: Int,
                scale: Float, scores: UnsafeMutablePointer<Float>, output: UnsafeMutablePointer<Float>) {
        let rowWidth = heads * headDim
        let group = heads / (width / headDim)
        for t in 0..<count {
            let position = start + t
            let first = window > 0 ? max(0, position - window + 1) : 0
            for h in 0..<heads {
                let kvOffset = (h / group) * headDim
                ck_attend_f16(queries + t * rowWidth + h * headDim,
                              key(layer: layer, position: first) + kvOffset, Int64(width),
                              value(layer: layer, position: first) + kvOffset, Int64(width),
                              Int64(position - first + 1), Int64(headDim), scale, 0, nil, scores,
                              output + t * rowWidth + h * headDim)
            }
        }
    }
}
