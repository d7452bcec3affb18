// Llama (Llama 2/3, Mistral, TinyLlama, SmolLM): pre-norm decoder with RMS norms, RoPE on adjacent pairs
// (optionally Llama 3 frequency factors from rope_freqs.weight, or linear scaling), grouped-query attention,
// SwiGLU FFN. Qwen 2 is the same block with Q/K/V biases and NeoX-style RoPE (see Qwen2.swift).
import CKernels
import GGUF
import Kernels

final class LlamaDecoder: LanguageModel {
    struct Variant {
        let architecture: String
        /// RoPE on (i, i + n/2) pairs instead of (2i, 2i + 1).
        let neoxRope: Bool
        /// Q/K/V projections carry biases.
        let attentionBiases: Bool
    }

    struct Layer {
        let attentionNorm: [Float]
        let query, key, value, output: WeightMatrix
        let queryBias, keyBias, valueBias: [Float]?
        let ffnNorm: [Float]
        let gate, up, down: WeightMatrix
    }

    let info: ModelInfo
    let variant: Variant
    let embedding: WeightMatrix
    let output: WeightMatrix
    let outputNorm: [Float]
    let layers: [Layer]
    let embd, heads, kvHeads, headDim, ffn, ropeDims: Int
    let eps, ropeBase, ropeScale: Float
    let ropeFactors: [Float]?
    let file: GGUFFile

    var kvWidth: Int { kvHeads * headDim }

    init(file: GGUFFile, variant: Variant) throws(ModelError) {
        self.file = file
        self.variant = variant
        let arch = variant.architecture
        let meta = Metadata(file: file, prefix: arch)
        let tensors = TensorLoader(file: file)
        let layerCount = try meta.count("block_count", limit: 512)
        embd = try meta.count("embedding_length", limit: 1 << 16)
        heads = try meta.count("attention.head_count", limit: 1024)
        kvHeads = try meta.optionalInteger("attention.head_count_kv") ?? heads
        guard kvHeads > 0, heads % kvHeads == 0 else {
            throw ModelError("\(arch).attention.head_count_kv = \(kvHeads) does not divide head_count = \(heads)")
        }
        headDim = try meta.optionalInteger("attention.key_length") ?? embd / heads
        guard headDim > 0, headDim <= 1024, headDim % 2 == 0, (try meta.optionalInteger("attention.value_length")) ?? headDim == headDim else {
            throw ModelError("\(arch): head dimension \(headDim) is not supported")
        }
        ropeDims = try meta.optionalInteger("rope.dimension_count") ?? headDim
        guard ropeDims > 0, ropeDims <= headDim, ropeDims % 2 == 0 else {
            throw ModelError("\(arch).rope.dimension_count = \(ropeDims) must be even and at most the head dimension \(headDim)")
        }
        ffn = try meta.count("feed_forward_length", limit: 1 << 18)
        eps = try meta.float("attention.layer_norm_rms_epsilon")
        ropeBase = try meta.optionalFloat("rope.freq_base") ?? 10_000
        switch try meta.optionalString("rope.scaling.type") {
        case nil, "none"?:
            ropeScale = 1
        case "linear"?:
            let factor = try meta.optionalFloat("rope.scaling.factor") ?? 1
            guard factor > 0 else { throw ModelError("\(arch).rope.scaling.factor must be positive") }
            ropeScale = 1 / factor
        case let other?:
            throw ModelError("\(arch).rope.scaling.type '\(other)' is not supported (supported: none, linear)")
        }
        ropeFactors = try tensors.optionalVector("rope_freqs.weight", count: ropeDims / 2)
        let contextLength = try meta.count("context_length", limit: 1 << 24)

        guard let embeddingInfo = file.tensor("token_embd.weight"), embeddingInfo.dimensions.count == 2 else {
            throw ModelError("tensor 'token_embd.weight' is missing or not 2-dimensional")
        }
        let vocab = embeddingInfo.dimensions[1]
        embedding = try tensors.matrix("token_embd.weight", rows: vocab, cols: embd)
        output = try tensors.optionalMatrix("output.weight", rows: vocab, cols: embd) ?? embedding
        outputNorm = try tensors.vector("output_norm.weight", count: embd)

        var built: [Layer] = []
        for i in 0..<layerCount {
            let p = "blk.\(i)."
            let biases = variant.attentionBiases
            built.append(Layer(
                attentionNorm: try tensors.vector(p + "attn_norm.weight", count: embd),
                query: try tensors.matrix(p + "attn_q.weight", rows: heads * headDim, cols: embd),
                key: try tensors.matrix(p + "attn_k.weight", rows: kvHeads * headDim, cols: embd),
                value: try tensors.matrix(p + "attn_v.weight", rows: kvHeads * headDim, cols: embd),
                output: try tensors.matrix(p + "attn_output.weight", rows: embd, cols: heads * headDim),
                queryBias: biases ? try tensors.vector(p + "attn_q.bias", count: heads * headDim) : nil,
                keyBias: biases ? try tensors.vector(p + "attn_k.bias", count: kvHeads * headDim) : nil,
                valueBias: biases ? try tensors.vector(p + "attn_v.bias", count: kvHeads * headDim) : nil,
                ffnNorm: try tensors.vector(p + "ffn_norm.weight", count: embd),
                gate: try tensors.matrix(p + "ffn_gate.weight", rows: ffn, cols: embd),
                up: try tensors.matrix(p + "ffn_up.weight", rows: ffn, cols: embd),
                down: try tensors.matrix(p + "ffn_down.weight", rows: embd, cols: ffn)))
        }
        layers = built
        let name = (try? file.string("general.name")) ?? arch
        info = ModelInfo(architecture: arch, name: name, layers: layerCount, embeddingLength: embd,
                         vocabularySize: vocab, trainedContextLength: contextLength,
                         parameterBytes: file.tensors.reduce(0) { $0 + $1.byteCount })
    }

    func scratchSizes(batch: Int, contextLength: Int) -> ForwardScratch.Sizes {
        ForwardScratch.Sizes(residual: batch * embd, normed: batch * embd, query: batch * heads * headDim,
                             key: batch * kvWidth, value: batch * kvWidth, attention: batch * heads * headDim,
                             projected: batch * embd, gate: batch * ffn, up: batch * ffn,
                             heads: heads)
    }

    func forward(_ tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], scratch: ForwardScratch,
                 logits: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        let n = tokens.count
        Attention.check(segments, tokens: n, width: kvWidth, scratch: scratch)
        let x = scratch.residual, xn = scratch.normed          // [n][embd]
        let q = scratch.query, att = scratch.attention         // [n][heads*headDim]
        let k = scratch.key, v = scratch.value                 // [n][kvHeads*headDim]
        let proj = scratch.projected                           // [n][embd]
        let g = scratch.gate, u = scratch.up                   // [n][ffn]
        let qWidth = heads * headDim
        let scale = 1 / Float(headDim).squareRoot()
        let neox: Int32 = variant.neoxRope ? 1 : 0

        let (rowCache, rowPosition) = Attention.rows(segments)
        let minRows = Attention.rowsPerThread
        pool.forEachRange(n, minChunk: minRows) { range in
            for t in range { Kernels.dequantizeRow(embedding, row: Int(tokens[t]), into: x + t * embd) }
        }

        for (index, layer) in layers.enumerated() {
            pool.forEachRange(n, minChunk: minRows) { range in
                for t in range {
                    if index > 0 { ck_add(x + t * embd, proj + t * embd, Int64(embd)) }  // the previous layer's FFN output
                    ck_rmsnorm(x + t * embd, layer.attentionNorm, xn + t * embd, Int64(embd), eps)
                }
            }
            Kernels.matmul([layer.query, layer.key, layer.value], xn, batch: n, into: [q, k, v], pool: pool)
            pool.forEachRange(n, minChunk: minRows) { range in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: ropeDims) { cos in
                    withUnsafeTemporaryAllocation(of: Float.self, capacity: ropeDims) { sin in
                        for t in range {
                            let qt = q + t * qWidth, kt = k + t * kvWidth, vt = v + t * kvWidth
                            if let b = layer.queryBias { ck_add(qt, b, Int64(qWidth)) }
                            if let b = layer.keyBias { ck_add(kt, b, Int64(kvWidth)) }
                            if let b = layer.valueBias { ck_add(vt, b, Int64(kvWidth)) }
                            ck_rope_cache(Float(rowPosition[t]), Int64(ropeDims), ropeBase, ropeScale, ropeFactors, cos.baseAddress, sin.baseAddress)
                            ck_rope(qt, Int64(heads), Int64(headDim), Int64(ropeDims), cos.baseAddress, sin.baseAddress, neox)
                            ck_rope(kt, Int64(kvHeads), Int64(headDim), Int64(ropeDims), cos.baseAddress, sin.baseAddress, neox)
                            rowCache[t].store(layer: index, position: rowPosition[t], keys: kt, values: vt)
                        }
                    }
                }
            }
            Attention.attend(segments, layer: index, queries: q, heads: heads, headDim: headDim, window: 0, scale: scale,
                             scratch: scratch, output: att, pool: pool)
            Kernels.matmul(layer.output, att, batch: n, into: proj, pool: pool)
            pool.forEachRange(n, minChunk: minRows) { range in
                for t in range {
                    ck_add(x + t * embd, proj + t * embd, Int64(embd))
                    ck_rmsnorm(x + t * embd, layer.ffnNorm, xn + t * embd, Int64(embd), eps)
                }
            }
            Kernels.matmul([layer.gate, layer.up], xn, batch: n, into: [g, u], pool: pool)
            pool.forEachRange(n, minChunk: minRows) { range in
                let first = range.lowerBound * ffn
                ck_swiglu(g + first, u + first, g + first, Int64(range.count * ffn))
            }
            Kernels.matmul(layer.down, g, batch: n, into: proj, pool: pool)
        }
        pool.forEachRange(n, minChunk: minRows) { range in
            for t in range { ck_add(x + t * embd, proj + t * embd, Int64(embd)) }
        }
        let rows = Attention.finish(segments, normalizing: x, width: embd, with: outputNorm, eps: eps, into: xn)
        guard rows > 0 else { return }
        Kernels.matmul(output, xn, batch: rows, into: logits, pool: pool)
    }
}
