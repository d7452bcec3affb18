// Text to token ids and back, built from a GGUF vocabulary, matching llama.cpp's llama_tokenize and
// llama_token_to_piece. Supported: tokenizer.ggml.model = "llama" (SentencePiece-style).
import GGUF

public final class Tokenizer: @unchecked Sendable {
    let vocabulary: Vocabulary
    let encoder: SentencePieceEncoder
    /// Control, user-defined and unknown tokens, longest text first, for splitting text around them.
    let specialTokens: [(id: Int32, text: [UInt8], kind: TokenKind)]

    public init(gguf: GGUFFile) throws(TokenizerError) {
        let model: String
        do {
            model = try gguf.string("tokenizer.ggml.model")
        } catch {
            throw TokenizerError("\(error)")
        }
        guard model == "llama" else {
            throw TokenizerError("tokenizer.ggml.model '\(model)' is not supported yet; supported: llama (SentencePiece)")
        }
        vocabulary = try Vocabulary(gguf: gguf)
        encoder = SentencePieceEncoder(vocabulary: vocabulary)
        var specials: [(Int32, [UInt8], TokenKind)] = []
        for (i, kind) in vocabulary.kinds.enumerated() where kind == .control || kind == .userDefined || kind == .unknown {
            let text = Array(vocabulary.texts[i].utf8)
            if !text.isEmpty { specials.append((Int32(i), text, kind)) }
        }
        specialTokens = specials.sorted { $0.1.count > $1.1.count || ($0.1.count == $1.1.count && $0.0 < $1.0) }
    }

    public var vocabularySize: Int { vocabulary.texts.count }
    public var bosToken: Int32? { vocabulary.bos }
    public var eosToken: Int32? { vocabulary.eos }
    public var addsBOS: Bool { vocabulary.addBOS }

    public func isEndOfGeneration(_ token: Int32) -> Bool { vocabulary.endOfGeneration.contains(token) }

    public func isControl(_ token: Int32) -> Bool {
        token >= 0 && Int(token) < vocabularySize && vocabulary.kinds[Int(token)] == .control
    }

    /// Like llama.cpp's llama_tokenize(vocab, text, add_special, parse_special): user-defined tokens are always
    /// recognised in the text; control tokens only with `parseSpecial`.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int32] {
        var output: [Int32] = []
        if addSpecial && vocabulary.addBOS, let bos = vocabulary.bos { output.append(bos) }
        var previousWasSpecial = true
        for fragment in partition(Array(text.utf8), parseSpecial: parseSpecial) {
            switch fragment {
            case .token(let id):
                output.append(id)
                previousWasSpecial = true
            case .text(let bytes):
                var escaped: [UInt8] = []
                escaped.reserveCapacity(bytes.count + 3)
                if vocabulary.addSpacePrefix && previousWasSpecial { escaped += [0xE2, 0x96, 0x81] }
                for byte in bytes {
                    if byte == 0x20 { escaped += [0xE2, 0x96, 0x81] } else { escaped.append(byte) }
                }
                encoder.encode(escaped, into: &output)
                previousWasSpecial = false
            }
        }
        if addSpecial && vocabulary.addEOS, let eos = vocabulary.eos { output.append(eos) }
        return output
    }

    enum Fragment: Equatable {
        case text([UInt8])
        case token(Int32)
    }

    /// Splits text around special tokens, longest tokens first (llama.cpp's tokenizer_st_partition).
    func partition(_ text: [UInt8], parseSpecial: Bool) -> [Fragment] {
        var fragments: [Fragment] = text.isEmpty ? [] : [.text(text)]
        for special in specialTokens {
            if !parseSpecial && (special.kind == .control || special.kind == .unknown) { continue }
            var next: [Fragment] = []
            for fragment in fragments {
                guard case .text(let bytes) = fragment, bytes.count >= special.text.count else {
                    next.append(fragment)
                    continue
                }
                var start = 0
                var i = 0
                while i + special.text.count <= bytes.count {
                    if bytes[i] == special.text[0] && bytes[i..<(i + special.text.count)].elementsEqual(special.text) {
                        if i > start { next.append(.text(Array(bytes[start..<i]))) }
                        next.append(.token(special.id))
                        i += special.text.count
                        start = i
                    } else {
                        i += 1
                    }
                }
                if start < bytes.count { next.append(.text(Array(bytes[start...]))) }
            }
            fragments = next
        }
        return fragments
    }

    /// The bytes a token stands for (llama_token_to_piece with special = false when `skipSpecial`).
    public func piece(_ token: Int32, skipSpecial: Bool = true) -> [UInt8] {
        guard token >= 0 && Int(token) < vocabularySize else { return [] }
        let text = vocabulary.texts[Int(token)]
        switch vocabulary.kinds[Int(token)] {
        case .normal, .undefined, .unused:
            var bytes: [UInt8] = []
            let utf8 = Array(text.utf8)
            var i = 0
            while i < utf8.count {
                if i + 2 < utf8.count && utf8[i] == 0xE2 && utf8[i + 1] == 0x96 && utf8[i + 2] == 0x81 {
                    bytes.append(0x20)
                    i += 3
                } else {
                    bytes.append(utf8[i])
                    i += 1
                }
            }
            return bytes
        case .byte:
            return Vocabulary.byteValue(text).map { [$0] } ?? []
        case .userDefined:
            return Array(text.utf8)
        case .control:
            return skipSpecial ? [] : Array(text.utf8)
        case .unknown:
            return Array("\u{2581}\u{2047}\u{2581}".utf8)
        }
    }

    public func decode(_ tokens: [Int32], skipSpecial: Bool = true) -> String {
        var bytes: [UInt8] = []
        for token in tokens { bytes += piece(token, skipSpecial: skipSpecial) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Turns a token stream into text, holding back bytes of a character split across tokens until it is complete.
public struct StreamingDecoder {
    let tokenizer: Tokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    public mutating func append(_ token: Int32) -> String {
        pending += tokenizer.piece(token)
        let complete = Self.completePrefixLength(pending)
        defer { pending.removeFirst(complete) }
        return String(decoding: pending[0..<complete], as: UTF8.self)
    }

    /// Whatever is left, invalid sequences replaced.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// Length of the prefix that does not end inside an incomplete UTF-8 sequence.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        var i = bytes.count - 1
        var back = 0
        while i >= 0 && back < 4 && bytes[i] & 0xC0 == 0x80 {
            i -= 1
            back += 1
        }
        guard i >= 0 else { return bytes.count }
        let need = SentencePieceEncoder.utf8Length(bytes[i])
        if bytes[i] < 0xC0 { return bytes.count }
        return back + 1 < need ? i : bytes.count
    }
}
