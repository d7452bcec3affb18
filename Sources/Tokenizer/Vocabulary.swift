// Everything a tokenizer knows about its tokens, as llama.cpp's `llama_vocab` holds it after loading.

/// Ids of the tokens with a role; -1 where the vocabulary has none (llama.cpp's LLAMA_TOKEN_NULL).
struct SpecialTokenIDs: Sendable, Equatable {
    var bos: Int32 = -1
    var eos: Int32 = -1
    var eot: Int32 = -1
    var eom: Int32 = -1
    var unknown: Int32 = -1
    var separator: Int32 = -1
    var padding: Int32 = -1
    var mask: Int32 = -1
    var fimPrefix: Int32 = -1
    var fimSuffix: Int32 = -1
    var fimMiddle: Int32 = -1
    var fimPad: Int32 = -1
    var fimRepo: Int32 = -1
    var fimSeparator: Int32 = -1
}

/// A loaded vocabulary. Built once by `init(gguf:)` (Vocabulary+GGUF.swift), then only read.
struct Vocabulary: Sendable {
    enum Kind: Sendable, Equatable {
        /// tokenizer.ggml.model = "llama": SentencePiece BPE over scores, with byte fallback.
        case sentencePiece
        /// tokenizer.ggml.model = "gpt2": byte-level BPE over merge ranks.
        case bytePair(PreTokenizerConfiguration)
    }

    var kind: Kind
    /// Token texts; entry `i` is token `i`.
    var texts: ByteStringTable
    var scores: [Float]
    var attributes: [TokenAttributes]
    /// BPE merges keyed by the concatenated pair with the left part's length as tag; the value is the rank.
    var merges: ByteStringTable?
    var ids = SpecialTokenIDs()
    /// Tokens that end generation (llama.cpp's special_eog_ids).
    var endOfGeneration: Set<Int32> = []
    var addsBOS = false
    var addsEOS = false
    var addsSpacePrefix = false
    var cleansSpaces = false
    /// SentencePiece byte fallback: the token for each byte (`<0xXX>`, else the byte itself), -1 for none.
    var byteTokens: [Int32] = []
    /// Control, user-defined and unknown tokens, longest text first: the order the special-token partition
    /// tries them in.
    var partitionOrder: [Int32] = []

    var count: Int { attributes.count }

    func text(_ id: Int32) -> UnsafeBufferPointer<UInt8> { texts.key(at: Int(id)) }

    func textString(_ id: Int32) -> String { String(decoding: text(id), as: UTF8.self) }

    func contains(_ id: Int32) -> Bool { id >= 0 && Int(id) < count }
}
