// Gemma 3: RMS norms before and after attention and FFN, QK-norm, sliding-window layers (5 of every 6) with
// their own RoPE base, GELU-tanh gated FFN, embeddings scaled by sqrt(n_embd), output tied to the embeddings.
import CKernels
import GGUF
import Kernels

final class Gemma3: LanguageModel {
    struct Layer {
        let attentionNorm: [Float]
        let query, key, value, output: WeightMatrix
        let queryNorm, keyNorm: [Float]
        let postAttentionNorm: [Float]
        let ffnNorm: [Float]
        let gate, up, down: WeightMatrix
        let postFFNNorm: [Float]
        let slidingWindow: Bool
    }

    let info: ModelInfo
    let embedding: WeightMatrix       // [vocab][embd]
    let output: WeightMatrix          // [vocab][embd], usually the embedding itself
    let outputNorm: [Float]
    let layers: [Layer]
    let embd, heads, kvHeads, headDim, ffn: Int
    let eps: Float
    let ropeBase, ropeBaseSWA: Float
    let window: Int
    let attentionScale: Float
    let logitSoftcap: Float
    let file: GGUFFile                // keeps the mapped weights alive

    var kvWidth: Int { kvHeads * headDim }

    init(file: GGUFFile) throws(ModelError) {
        self.file = file
        let meta = Metadata(file: file, prefix: "gemma3")
        let tensors = TensorLoader(file: file)
        let layerCount = try meta.count("block_count", limit: 512)
        embd = try meta.count("embedding_length", limit: 1 << 16)
        heads = try meta.count("attention.head_count", limit: 1024)
        kvHeads = try meta.optionalInteger("attention.head_count_kv") ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw ModelError("gemma3.attention.head_count_kv = \(kvHeads) does not divide head_count = \(heads)")
        }
        headDim = try meta.optionalInteger("attention.key_length") ?? embd / heads
        let valueDim = try meta.optionalInteger("attention.value_length") ?? headDim
        guard headDim > 0, headDim <= 1024, valueDim == headDim, headDim % 2 == 0 else {
            throw ModelError("gemma3.attention.key_length = \(headDim) / value_length = \(valueDim) are not supported")
        }
        ffn = try meta.count("feed_forward_length", limit: 1 << 18)
        eps = try meta.float("attention.layer_norm_rms_epsilon")
        ropeBase = try meta.optionalFloat("rope.freq_base") ?? 1_000_000
        ropeBaseSWA = try meta.optionalFloat("rope.freq_base_swa") ?? 10_000
        window = try meta.optionalInteger("attention.sliding_window") ?? 0
        let pattern = try meta.optionalInteger("attention.sliding_window_pattern") ?? 6
        guard pattern > 0 else { throw ModelError("gemma3.attention.sliding_window_pattern must be positive") }
        logitSoftcap = try meta.optionalFloat("final_logit_softcapping") ?? 0
        let contextLength = try meta.count("context_length", limit: 1 << 24)
        // Gemma's query scale: 1/sqrt(head_dim), except the 27B model which uses 1/sqrt(n_embd / n_head).
        attentionScale = layerCount == 62 ? 1 / Float(embd / heads).squareRoot() : 1 / Float(headDim).squareRoot()

        let vocab: Int
        guard let embeddingInfo = file.tensor("token_embd.weight"), embeddingInfo.dimensions.count == 2 else {
            throw ModelError("tensor 'token_embd.weight' is missing or not 2-dimensional")
        }
        vocab = embeddingInfo.dimensions[1]
        embedding = try tensors.matrix("token_embd.weight", rows: vocab, cols: embd)
        output = try tensors.optionalMatrix("output.weight", rows: vocab, cols: embd) ?? embedding
        outputNorm = try tensors.vector("output_norm.weight", count: embd)

        var built: [Layer] = []
        for i in 0..<layerCount {
            let p = "blk.\(i)."
            built.append(Layer(
                attentionNorm: try tensors.vector(p + "attn_norm.weight", count: embd),
                query: try tensors.matrix(p + "attn_q.weight", rows: heads * headDim, cols: embd),
                key: try tensors.matrix(p + "attn_k.weight", rows: kvHeads * headDim, cols: embd),
                value: try tensors.matrix(p + "attn_v.weight", rows: kvHeads * headDim, cols: embd),
                output: try tensors.matrix(p + "attn_output.weight", rows: embd, cols: heads * headDim),
                queryNorm: try tensors.vector(p + "attn_q_norm.weight", count: headDim),
                keyNorm: try tensors.vector(p + "attn_k_norm.weight", count: headDim),
                postAttentionNorm: try tensors.vector(p + "post_attention_norm.weight", count: embd),
                ffnNorm: try tensors.vector(p + "ffn_norm.weight", count: embd),
                gate: try tensors.matrix(p + "ffn_gate.weight", rows: ffn, cols: embd),
                up: try tensors.matrix(p + "ffn_up.weight", rows: ffn, cols: embd),
                down: try tensors.matrix(p + "ffn_down.weight", rows: embd, cols: ffn),
                postFFNNorm: try tensors.vector(p + "post_ffw_norm.weight", count: embd),
                slidingWindow: window > 0 && i % pattern < pattern - 1))
        }
        layers = built
        let name = (try? file.string("general.name")) ?? "gemma3"
        info = ModelInfo(architecture: "gemma3", name: name, layers: layerCount, embeddingLength: embd,
                         vocabularySize: vocab, trainedContextLength: contextLength,
                         parameterBytes: file.tensors.reduce(0) { $0 + $1.byteCount })
        ck_gelu_table_init()
    }

    func scratchSizes(batch: Int, contextLength: Int) -> ForwardScratch.Sizes {
        ForwardScratch.Sizes(residual: batch * embd, normed: batch * max(embd, ffn), query: batch * heads * headDim,
                             key: batch * kvWidth, value: batch * kvWidth, attention: batch * heads * headDim,
                             projected: batch * embd, gate: batch * ffn, up: batch * ffn,
                             heads: heads)
    }

    /// The end of a layer for one row: the FFN's output, normed, joins the residual stream.
    @inline(__always)
    private func finishFFN(_ layer: Layer, row t: Int, x: UnsafeMutablePointer<Float>, proj: UnsafeMutablePointer<Float>) {
        ck_rmsnorm(proj + t * embd, layer.postFFNNorm, proj + t * embd, Int64(embd), eps)
        ck_add(x + t * embd, proj + t * embd, Int64(embd))
    }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], scratch: ForwardScratch,
                 logits: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let n = tokens.count
        Attention.check(segments, tokens: n, width: kvWidth, scratch: scratch)
        let x = scratch.residual          // [n][embd]
        let xn = scratch.normed           // [n][embd] (and [n][ffn] for the FFN's down input)
        let q = scratch.query             // [n][heads*headDim]
        let k = scratch.key               // [n][kvHeads*headDim]
        let v = scratch.value             // [n][kvHeads*headDim]
        let att = scratch.attention       // [n][heads*headDim]
        let proj = scratch.projected      // [n][embd]
        let g = scratch.gate, u = scratch.up  // [n][ffn]

        let embedScale = Float(embd).squareRoot()
        let (rowCache, rowPosition) = Attention.rows(segments)
        let minRows = Attention.rowsPerThread
        pool.forEachRange(n, minChunk: minRows) { range in
            for t in range {
                Kernels.dequantizeRow(embedding, row: Int(tokens[t]), into: x + t * embd)
                ck_scale(x + t * embd, embedScale, Int64(embd))
            }
        }

        for (index, layer) in layers.enumerated() {
            pool.forEachRange(n, minChunk: minRows) { range in
                for t in range {
                    if index > 0 { finishFFN(layers[index - 1], row: t, x: x, proj: proj) }
                    ck_rmsnorm(x + t * embd, layer.attentionNorm, xn + t * embd, Int64(embd), eps)
                }
            }
            Kernels.matmul([layer.query, layer.key, layer.value], xn, batch: n, into: [q, k, v], pool: pool)

            let base = layer.slidingWindow ? ropeBaseSWA : ropeBase
            pool.forEachRange(n, minChunk: minRows) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { cos in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: headDim) { sin in
                        for t in range {
                            let qt = q + t * heads * headDim, kt = k + t * kvWidth
                            for h in 0..<heads { ck_rmsnorm(qt + h * headDim, layer.queryNorm, qt + h * headDim, Int64(headDim), eps) }
                            for h in 0..<kvHeads { ck_rmsnorm(kt + h * headDim, layer.keyNorm, kt + h * headDim, Int64(headDim), eps) }
                            ck_rope_cache(Float(rowPosition[t]), Int64(headDim), base, 1, nil, cos.baseAddress, sin.baseAddress)
                            ck_rope(qt, Int64(heads), Int64(headDim), Int64(headDim), cos.baseAddress, sin.baseAddress, 1)
                            ck_rope(kt, Int64(kvHeads), Int64(headDim), Int64(headDim), cos.baseAddress, sin.baseAddress, 1)
                            ck_scale(qt, attentionScale, Int64(heads * headDim))
                            rowCache[t].store(layer: index, position: rowPosition[t], keys: kt, values: v + t * kvWidth)
                        }
                    }
                }
            }
            Attention.attend(segments, layer: index, queries: q, heads: heads, headDim: headDim,
                             window: layer.slidingWindow ? window : 0, scale: 1, scratch: scratch, output: att, pool: pool)
            Kernels.matmul(layer.output, att, batch: n, into: proj, pool: pool)
            pool.forEachRange(n, minChunk: minRows) { range in
                for t in range {
                    ck_rmsnorm(proj + t * embd, layer.postAttentionNorm, proj + t * embd, Int64(embd), eps)
                    ck_add(x + t * embd, proj + t * embd, Int64(embd))
                    ck_rmsnorm(x + t * embd, layer.ffnNorm, xn + t * embd, Int64(embd), eps)
                }
            }
            Kernels.matmul([layer.gate, layer.up], xn, batch: n, into: [g, u], pool: pool)
            pool.forEachRange(n, minChunk: minRows) { range in
                let first = range.lowerBound * ffn
                ck_geglu(g + first, u + first, g + first, Int64(range.count * ffn))
            }
            Kernels.matmul(layer.down, g, batch: n, into: proj, pool: pool)
        }
        if let last = layers.last {
            pool.forEachRange(n, minChunk: minRows) { range in
                for t in range { finishFFN(last, row: t, x: x, proj: proj) }
            }
        }
        let rows = Attention.finish(segments, normalizing: x, width: embd, with: outputNorm, eps: eps, into: xn)
        guard rows > 0 else { return }
        Kernels.matmul(output, xn, batch: rows, into: logits, pool: pool)
        if logitSoftcap > 0 {
            let count = rows * info.vocabularySize
            for i in 0..<count { logits[i] = logitSoftcap * ck_tanhf(logits[i] / logitSoftcap) }
        }
    }
}
