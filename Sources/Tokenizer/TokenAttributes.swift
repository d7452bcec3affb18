// Per-token attributes, as llama.cpp derives them from `tokenizer.ggml.token_type` and its fix-ups.

/// llama.cpp's `llama_token_attr` bits (same values, so a reader of both sources can compare them).
struct TokenAttributes: OptionSet, Sendable {
    let rawValue: UInt16

    init(rawValue: UInt16) { self.rawValue = rawValue }

    static let unknown = TokenAttributes(rawValue: 1 << 0)
    static let unused = TokenAttributes(rawValue: 1 << 1)
    static let normal = TokenAttributes(rawValue: 1 << 2)
    static let control = TokenAttributes(rawValue: 1 << 3)
    static let userDefined = TokenAttributes(rawValue: 1 << 4)
    static let byte = TokenAttributes(rawValue: 1 << 5)
    static let normalized = TokenAttributes(rawValue: 1 << 6)
    static let leftStrip = TokenAttributes(rawValue: 1 << 7)
    static let rightStrip = TokenAttributes(rawValue: 1 << 8)
    static let singleWord = TokenAttributes(rawValue: 1 << 9)

    /// Tokens the special-token partition looks for in text.
    static let partitioned: TokenAttributes = [.control, .userDefined, .unknown]
    /// Tokens that are matched, and rendered, only when the caller asks for special tokens.
    static let special: TokenAttributes = [.control, .unknown]

    /// The attribute for a `tokenizer.ggml.token_type` value (llama.cpp's LLAMA_TOKEN_TYPE_*).
    init(tokenType: Int) {
        switch tokenType {
        case 1: self = .normal
        case 2: self = .unknown
        case 3: self = .control
        case 4: self = .userDefined
        case 5: self = .unused
        case 6: self = .byte
        default: self = []  // LLAMA_TOKEN_ATTR_UNDEFINED
        }
    }
}
