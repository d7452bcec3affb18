// The Unicode facts llama.cpp's pre-tokenizer regexes ask about a code point, from the stdlib's tables.

/// The classes `\p{L}`, `\p{N}`, `\p{P}` and `\s` of one code point, as llama.cpp's `unicode_cpt_flags` has them.
struct CodepointFlags: OptionSet, Sendable {
    let rawValue: UInt8

    /// Set for every code point inside the segment being scanned; a position outside it has no flags at all
    /// (llama.cpp's `flags.as_uint() != 0` test).
    static let defined = CodepointFlags(rawValue: 1 << 0)
    static let letter = CodepointFlags(rawValue: 1 << 1)
    static let number = CodepointFlags(rawValue: 1 << 2)
    static let whitespace = CodepointFlags(rawValue: 1 << 3)
    static let punctuation = CodepointFlags(rawValue: 1 << 4)

    static let wordClasses: CodepointFlags = [.whitespace, .letter, .number]

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The flags of `scalar`: general category L*, N* or P*, and the White_Space property (the same set as
    /// llama.cpp's `unicode_set_whitespace`).
    ///
    /// llama.cpp's tables (unicode-data.cpp) are Unicode 15.1; the stdlib's are newer. A code point assigned
    /// later is unassigned to llama.cpp, so it is here too: every other code point's flags agree (checked for all
    /// 1,112,064 scalars against llama.cpp's `unicode_cpt_flags_from_cpt`).
    init(_ scalar: Unicode.Scalar) {
        if scalar.value < 128 {
            self = Self.ascii[Int(scalar.value)]
            return
        }
        var flags: CodepointFlags = .defined
        let properties = scalar.properties
        if let age = properties.age, age.major > 15 || (age.major == 15 && age.minor > 1) {
            self = flags
            return
        }
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            flags.insert(.letter)
        case .decimalNumber, .letterNumber, .otherNumber:
            flags.insert(.number)
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
            .finalPunctuation, .otherPunctuation:
            flags.insert(.punctuation)
        default:
            break
        }
        if properties.isWhitespace { flags.insert(.whitespace) }
        self = flags
    }

    private static let ascii: [CodepointFlags] = (0..<128).map { value in
        let byte = UInt8(value)
        var flags: CodepointFlags = .defined
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"): flags.insert(.letter)
        case UInt8(ascii: "0")...UInt8(ascii: "9"): flags.insert(.number)
        case 0x09...0x0D, 0x20: flags.insert(.whitespace)
        default: break
        }
        // ASCII punctuation (general category P*): !"#%&'()*,-./:;?@[\]_{}; $+<=>^`|~ are symbols.
        if Array("!\"#%&'()*,-./:;?@[\\]_{}".utf8).contains(byte) { flags.insert(.punctuation) }
        return flags
    }
}
