// Token ids back to text: llama.cpp's token_to_piece and detokenize.

extension Tokenizer {
    /// The bytes of `token` as `llama_token_to_piece(..., special: true)` gives them: control tokens as their text,
    /// byte tokens as the raw byte, ▁ as a space (SentencePiece), GPT-2 characters as their bytes (BPE). Empty for
    /// an id outside the vocabulary.
    public func piece(_ token: Int32) -> [UInt8] { piece(token, special: true) }

    /// `special: false` renders control and unknown tokens as nothing.
    func piece(_ token: Int32, special: Bool) -> [UInt8] {
        guard vocabulary.contains(token) else { return [] }
        let attributes = vocabulary.attributes[Int(token)]
        if !special && !attributes.isDisjoint(with: .special) { return [] }
        let text = vocabulary.text(token)
        if !attributes.isDisjoint(with: [.control, .unknown, .userDefined]) { return Array(text) }
        if attributes.contains(.normal) {
            switch vocabulary.kind {
            case .sentencePiece: return Self.unescapeSpaces(text)
            case .bytePair: return ByteLevelEncoding.decode(text)
            }
        }
        if attributes.contains(.byte) {
            // llama.cpp reads the two hex digits of "<0xXX>" with strtol.
            guard text.count >= 5, let value = UInt8(String(decoding: text[3..<5], as: UTF8.self), radix: 16) else {
                return [0]
            }
            return [value]
        }
        return []
    }

    /// Like llama.cpp's `llama_detokenize(remove_special: skipSpecial, unparse_special: !skipSpecial)`: with
    /// `skipSpecial`, a leading BOS and trailing EOS the vocabulary adds are dropped and control tokens render as
    /// nothing. Invalid UTF-8 (a multi-byte character cut off) becomes U+FFFD.
    public func decode(_ tokens: [Int32], skipSpecial: Bool = true) -> String {
        String(decoding: decodeBytes(tokens, skipSpecial: skipSpecial), as: UTF8.self)
    }

    func decodeBytes(_ tokens: [Int32], skipSpecial: Bool) -> [UInt8] {
        var tokens = tokens[...]
        var removeSpace = vocabulary.addsSpacePrefix
        if skipSpecial && vocabulary.addsBOS, tokens.first == vocabulary.ids.bos {
            removeSpace = false
            tokens = tokens.dropFirst()
        }
        if skipSpecial && vocabulary.addsEOS, tokens.last == vocabulary.ids.eos {
            tokens = tokens.dropLast()
        }
        var output: [UInt8] = []
        for token in tokens {
            var bytes = piece(token, special: !skipSpecial)[...]
            if removeSpace, bytes.first == 0x20 { bytes = bytes.dropFirst() }
            removeSpace = false
            output.append(contentsOf: bytes)
        }
        if vocabulary.cleansSpaces { output = Self.cleanSpaces(output) }
        return output
    }

    private static func unescapeSpaces(_ text: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if i + 2 < text.count && text[i] == 0xE2 && text[i + 1] == 0x96 && text[i + 2] == 0x81 {
                output.append(0x20)
                i += 3
            } else {
                output.append(text[i])
                i += 1
            }
        }
        return output
    }

    /// llama.cpp's clean_up_tokenization_spaces, three passes over the bytes: drop the space before ? ! . , ;
    /// turn " ' " into "'"; drop the space before 's, 'm, 're and 've.
    static func cleanSpaces(_ input: [UInt8]) -> [UInt8] {
        let space = UInt8(ascii: " ")
        let apostrophe = UInt8(ascii: "'")

        var text = input
        var total = text.isEmpty ? 0 : 1
        for i in 1..<max(text.count, 1) {
            let x = text[i]
            if text[i - 1] == space && (x == UInt8(ascii: "?") || x == UInt8(ascii: "!") || x == UInt8(ascii: ".")
                || x == UInt8(ascii: ","))
            {
                total -= 1
            }
            text[total] = x
            total += 1
        }
        text.removeSubrange(total...)

        let count2 = text.count
        total = count2 == 0 ? 0 : 1
        var i = 1
        while i < count2 {
            let x = text[i]
            if x == apostrophe && i + 1 < count2 && text[i - 1] == space && text[i + 1] == space {
                total -= 1
                i += 1
                text[i] = 0
            }
            text[total] = x
            total += 1
            i += 1
        }
        text.removeSubrange(total...)

        let count3 = text.count
        total = count3 == 0 ? 0 : 1
        for i in 1..<max(count3, 1) {
            let x = text[i]
            if text[i - 1] == space && x == apostrophe && i + 1 < count3 {
                let x1 = text[i + 1]
                if x1 == UInt8(ascii: "s") || x1 == UInt8(ascii: "m") {
                    total -= 1
                } else if i + 2 < count3 {
                    let x2 = text[i + 2]
                    if (x1 == UInt8(ascii: "r") || x1 == UInt8(ascii: "v")) && x2 == UInt8(ascii: "e") {
                        total -= 1
                    }
                }
            }
            text[total] = x
            total += 1
        }
        text.removeSubrange(total...)
        return text
    }
}
