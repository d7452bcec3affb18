// The token table from GGUF metadata: texts, scores, kinds, and the special ids.
import GGUF

/// llama.cpp's token types as stored in tokenizer.ggml.token_type.
enum TokenKind: Int, Sendable {
    case undefined = 0, normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
}

struct Vocabulary: Sendable {
    let texts: [String]
    let scores: [Float]
    let kinds: [TokenKind]
    let index: [String: Int32]
    /// byte value → id of its <0xXX> token, when the vocabulary has byte tokens.
    let byteTokens: [Int32?]
    let bos: Int32?
    let eos: Int32?
    let unknown: Int32?
    let addBOS: Bool
    let addEOS: Bool
    let addSpacePrefix: Bool
    /// Tokens that end a turn: EOS, plus end-of-turn markers such as Gemma's <end_of_turn>.
    let endOfGeneration: Set<Int32>

    init(gguf: GGUFFile) throws(TokenizerError) {
        func wrap<T>(_ body: () throws -> T) throws(TokenizerError) -> T {
            do { return try body() } catch { throw TokenizerError("\(error)") }
        }
        texts = try wrap { try gguf.strings("tokenizer.ggml.tokens") }
        guard !texts.isEmpty, texts.count < Int(Int32.max) else { throw TokenizerError("tokenizer.ggml.tokens is empty") }
        let count = texts.count
        scores = try wrap { try gguf.optionalFloats("tokenizer.ggml.scores") } ?? [Float](repeating: 0, count: count)
        guard scores.count == count else {
            throw TokenizerError("tokenizer.ggml.scores has \(scores.count) entries for \(count) tokens")
        }
        let rawKinds = try wrap { try gguf.optionalIntegers("tokenizer.ggml.token_type") } ?? [Int](repeating: 1, count: count)
        guard rawKinds.count == count else {
            throw TokenizerError("tokenizer.ggml.token_type has \(rawKinds.count) entries for \(count) tokens")
        }
        kinds = rawKinds.map { TokenKind(rawValue: $0) ?? .normal }

        var index: [String: Int32] = [:]
        index.reserveCapacity(count)
        var bytes = [Int32?](repeating: nil, count: 256)
        for (i, text) in texts.enumerated() {
            // The first occurrence wins, as in llama.cpp's token_to_id map.
            if index[text] == nil { index[text] = Int32(i) }
            if kinds[i] == .byte, let value = Self.byteValue(text) { bytes[Int(value)] = Int32(i) }
        }
        self.index = index
        byteTokens = bytes

        func id(_ key: String) throws(TokenizerError) -> Int32? {
            guard let value = try wrap({ try gguf.optionalInteger(key) }) else { return nil }
            guard value >= 0, value < count else { throw TokenizerError("\(key) = \(value) is outside the vocabulary of \(count)") }
            return Int32(value)
        }
        bos = try id("tokenizer.ggml.bos_token_id")
        eos = try id("tokenizer.ggml.eos_token_id")
        unknown = try id("tokenizer.ggml.unknown_token_id")
        addBOS = try wrap { try gguf.optionalBool("tokenizer.ggml.add_bos_token") } ?? (bos != nil)
        addEOS = try wrap { try gguf.optionalBool("tokenizer.ggml.add_eos_token") } ?? false
        addSpacePrefix = try wrap { try gguf.optionalBool("tokenizer.ggml.add_space_prefix") } ?? true

        var ends = Set<Int32>()
        if let eos { ends.insert(eos) }
        if let eot = try id("tokenizer.ggml.eot_token_id") { ends.insert(eot) }
        if let eom = try id("tokenizer.ggml.eom_token_id") { ends.insert(eom) }
        // As llama.cpp does, recognise the common end-of-turn markers by their text.
        for marker in ["<end_of_turn>", "<|eot_id|>", "<|im_end|>", "<|end|>", "<|endoftext|>", "<|eom_id|>", "</s>"] {
            if let id = index[marker], kinds[Int(id)] == .control { ends.insert(id) }
        }
        endOfGeneration = ends
    }

    /// 0x41 from "<0x41>".
    static func byteValue(_ text: String) -> UInt8? {
        let utf8 = Array(text.utf8)
        guard utf8.count == 6, utf8[0] == 60, utf8[1] == 48, utf8[2] == 120, utf8[5] == 62 else { return nil }
        return UInt8(String(decoding: utf8[3...4], as: UTF8.self), radix: 16)
    }
}
