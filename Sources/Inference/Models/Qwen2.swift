// Qwen 2: the Llama block with biases on the Q/K/V projections and NeoX-style RoPE; output often tied to the
// embeddings (output.weight absent).
import GGUF

enum Qwen2 {
    static func load(_ file: GGUFFile) throws(ModelError) -> LlamaDecoder {
        try LlamaDecoder(file: file, variant: .init(architecture: "qwen2", neoxRope: true, attentionBiases: true))
    }
}

extension LlamaDecoder {
    static func llama(_ file: GGUFFile) throws(ModelError) -> LlamaDecoder {
        try LlamaDecoder(file: file, variant: .init(architecture: "llama", neoxRope: false, attentionBiases: false))
    }
}
