// Detokenizing generated tokens one at a time without ever emitting half a character.

/// Feeds tokens as they are generated and returns the text they complete. A character whose UTF-8 bytes arrive
/// in several byte tokens (an emoji spelled `<0xF0><0x9F><0x98><0x80>`) is held back until its last byte;
/// bytes that can never form a character come out as U+FFFD. Control tokens render as nothing, as in llama.cpp's
/// interactive output.
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private var pending: [UInt8] = []

    public init(tokenizer: Tokenizer) {
        self.tokenizer = tokenizer
    }

    /// The text `token` completes; empty while a character is still incomplete.
    public mutating func append(_ token: Int32) -> String {
        pending.append(contentsOf: tokenizer.piece(token, special: false))
        let complete = Self.completePrefixLength(pending)
        guard complete > 0 else { return "" }
        let text = String(decoding: pending[..<complete], as: UTF8.self)
        pending.removeFirst(complete)
        return text
    }

    /// Whatever is still held back (an unfinished character, as U+FFFD); the decoder is empty afterwards.
    public mutating func finish() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    /// How many leading bytes can be decoded now: all of them, unless they end in the first bytes of a
    /// character that more bytes could still complete.
    static func completePrefixLength(_ bytes: [UInt8]) -> Int {
        // A character is at most 4 bytes, so only the last 3 can belong to an unfinished one.
        var lead = bytes.count - 1
        while lead >= 0 && lead >= bytes.count - 3 && bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
        guard lead >= 0 else { return bytes.count }
        let needed = Self.sequenceLength(lead: bytes[lead])
        let have = bytes.count - lead
        guard needed > have else { return bytes.count }
        // Hold the tail back only if it is a valid beginning of a character.
        return Self.isValidPrefix(bytes[lead...]) ? lead : bytes.count
    }

    private static func sequenceLength(lead: UInt8) -> Int {
        switch lead {
        case 0xC2...0xDF: 2
        case 0xE0...0xEF: 3
        case 0xF0...0xF4: 4
        default: 1
        }
    }

    /// Whether `bytes` (a lead byte and some continuation bytes) can still become a valid UTF-8 character: the
    /// second byte's narrower ranges after E0, ED, F0 and F4 rule out overlong forms, surrogates and values past
    /// U+10FFFF.
    private static func isValidPrefix(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let lead = bytes.first else { return false }
        guard bytes.count > 1 else { return true }
        let second = bytes[bytes.startIndex + 1]
        switch lead {
        case 0xE0: return (0xA0...0xBF).contains(second)
        case 0xED: return (0x80...0x9F).contains(second)
        case 0xF0: return (0x90...0xBF).contains(second)
        case 0xF4: return (0x80...0x8F).contains(second)
        default: return (0x80...0xBF).contains(second)
        }
    }
}
