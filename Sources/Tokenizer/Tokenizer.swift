// Text ↔ token ids for a GGUF model, with the results of llama.cpp's llama_tokenize and llama_detokenize.
import GGUF

/// A tokenizer built from a GGUF file's `tokenizer.ggml.*` metadata: SentencePiece ("llama") or byte-level BPE
/// ("gpt2").
///
/// Sendable because nothing changes after `init`; `encode` keeps its scratch buffers on the stack of each call.
public final class Tokenizer: @unchecked Sendable {
    let vocabulary: Vocabulary
    private let specialMatcher: SpecialTokenMatcher

    /// The longest token text, in bytes. No token stands for more input bytes than its text holds (SentencePiece
    /// writes a space as the three bytes of ▁, byte-level BPE a byte as a character of one or two bytes), so a
    /// text of `n` bytes takes at least ⌈n / longestTokenBytes⌉ tokens: a bound that refuses an oversized prompt
    /// before any work that grows with it. (Only whitespace stripped beside a special token, or characters a
    /// vocabulary without byte fallback drops, produce no token; such text is refused as if it produced some.)
    public let longestTokenBytes: Int

    public init(gguf: GGUFFile) throws(TokenizerError) {
        vocabulary = try Vocabulary(gguf: gguf)
        specialMatcher = SpecialTokenMatcher(vocabulary: vocabulary)
        var longest = 1
        for id in 0..<vocabulary.count { longest = max(longest, vocabulary.texts.key(at: id).count) }
        longestTokenBytes = longest
    }

    /// The fewest tokens `encode` can return for `byteCount` bytes of text (see `longestTokenBytes`).
    public func minimumTokenCount(byteCount: Int, addSpecial: Bool) -> Int {
        let special = addSpecial ? (vocabulary.addsBOS ? 1 : 0) + (vocabulary.addsEOS ? 1 : 0) : 0
        return (byteCount + longestTokenBytes - 1) / longestTokenBytes + special
    }

    public var vocabularySize: Int { vocabulary.count }
    public var bosToken: Int32? { vocabulary.contains(vocabulary.ids.bos) ? vocabulary.ids.bos : nil }
    public var eosToken: Int32? { vocabulary.contains(vocabulary.ids.eos) ? vocabulary.ids.eos : nil }
    /// Whether `encode(_:addSpecial: true)` starts with BOS (tokenizer.ggml.add_bos_token or the model's default).
    public var addsBOS: Bool { vocabulary.addsBOS }

    /// Like llama.cpp's `llama_tokenize(vocab, text, add_special, parse_special)`: `addSpecial` adds BOS/EOS where
    /// the vocabulary asks for them; `parseSpecial` lets control tokens written in the text ("<start_of_turn>")
    /// become those tokens instead of being spelled out. User-defined tokens are always matched.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int32] {
        var text = text
        return text.withUTF8 { encode(bytes: $0, addSpecial: addSpecial, parseSpecial: parseSpecial) }
    }

    func encode(bytes: UnsafeBufferPointer<UInt8>, addSpecial: Bool, parseSpecial: Bool) -> [Int32] {
        let fragments = specialMatcher.partition(bytes, parseSpecial: parseSpecial, attributes: vocabulary.attributes)
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 4)
        if addSpecial && vocabulary.addsBOS { output.append(vocabulary.ids.bos) }

        switch vocabulary.kind {
        case .sentencePiece:
            var session = SentencePieceSession(vocabulary: vocabulary)
            // The space prefix goes before the first fragment and after every special token.
            var previousWasSpecial = true
            for fragment in fragments {
                switch fragment {
                case .text(let range):
                    session.tokenize(
                        UnsafeBufferPointer(rebasing: bytes[range]),
                        spacePrefix: vocabulary.addsSpacePrefix && previousWasSpecial, into: &output)
                    previousWasSpecial = false
                case .token(let id):
                    output.append(id)
                    previousWasSpecial = true
                }
            }
        case .bytePair(let configuration):
            guard let merges = vocabulary.merges else { preconditionFailure("a BPE vocabulary always has merges") }
            var session = BytePairSession(vocabulary: vocabulary, configuration: configuration, merges: merges)
            for fragment in fragments {
                switch fragment {
                case .text(let range):
                    session.tokenize(UnsafeBufferPointer(rebasing: bytes[range]), into: &output)
                case .token(let id):
                    output.append(id)
                }
            }
        }

        if addSpecial && vocabulary.addsEOS { output.append(vocabulary.ids.eos) }
        return output
    }

    /// Whether generation stops at `token`: EOS, EOT, EOM and the end-of-turn tokens llama.cpp recognises by text
    /// (Gemma's `<end_of_turn>`, `<|im_end|>`, `<|eot_id|>`, ...).
    public func isEndOfGeneration(_ token: Int32) -> Bool { vocabulary.endOfGeneration.contains(token) }

    /// Whether `token` is a control token (rendered only on request, never produced from plain text).
    public func isControl(_ token: Int32) -> Bool {
        vocabulary.contains(token) && vocabulary.attributes[Int(token)].contains(.control)
    }
}
