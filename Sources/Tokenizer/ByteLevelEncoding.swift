// GPT-2's reversible byte ↔ printable-character mapping used by byte-level BPE vocabularies.
//
// Printable Latin-1 bytes (! to ~, ¡ to ¬, ® to ÿ) stand for themselves; the other 68 bytes, in order, become
// U+0100, U+0101, ... so that every token is printable text.

enum ByteLevelEncoding {
    /// The UTF-8 bytes of the character that stands for each byte (one or two bytes each), packed little-end
    /// first with the length in the top byte.
    static let encoded: [UInt32] = (0..<256).map { byte in
        let scalar = codepoints[byte]
        let utf8 = Array(String(Character(Unicode.Scalar(scalar)!)).utf8)
        var packed = UInt32(utf8.count) << 24
        for (i, b) in utf8.enumerated() { packed |= UInt32(b) << (8 * UInt32(i)) }
        return packed
    }

    /// The code point that stands for each byte.
    static let codepoints: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0..<256 {
            if (0x21...0x7E).contains(byte) || (0xA1...0xAC).contains(byte) || (0xAE...0xFF).contains(byte) {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The byte a code point stands for, or nil when it stands for none (index: code point, below 324).
    static let bytes: [Int16] = {
        var table = [Int16](repeating: -1, count: 324)
        for byte in 0..<256 { table[Int(codepoints[byte])] = Int16(byte) }
        return table
    }()

    /// Appends the encoded form of `byte` to `output`.
    @inline(__always)
    static func append(_ byte: UInt8, to output: inout [UInt8]) {
        let packed = encoded[Int(byte)]
        output.append(UInt8(truncatingIfNeeded: packed))
        if packed >> 24 == 2 { output.append(UInt8(truncatingIfNeeded: packed >> 8)) }
    }

    /// llama.cpp's `llama_decode_text`: every code point of a token's text back to its byte; a code point that
    /// stands for no byte is written as `[UNK_BYTE_0x<its UTF-8 in hex><the whole token text>]`.
    static func decode(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        for scalar in String(decoding: text, as: UTF8.self).unicodeScalars {
            let value = Int(scalar.value)
            if value < bytes.count, bytes[value] >= 0 {
                output.append(UInt8(bytes[value]))
                continue
            }
            output.append(contentsOf: "[UNK_BYTE_0x".utf8)
            for b in String(scalar).utf8 {
                let hex = Array("0123456789abcdef".utf8)
                output.append(hex[Int(b >> 4)])
                output.append(hex[Int(b & 15)])
            }
            output.append(contentsOf: text)
            output.append(UInt8(ascii: "]"))
        }
        return output
    }
}
