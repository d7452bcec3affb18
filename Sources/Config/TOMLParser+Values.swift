// The value level of the TOML parser: strings, numbers, booleans and arrays, and the unsupported forms refused by name.

extension TOMLParser {
    /// A value starting at the cursor; `depth` counts the arrays around it.
    mutating func parseValue(depth: Int) throws(TOMLError) -> TOMLValue {
        switch current {
        case "\"": return .string(try parseBasicString())
        case "'": return .string(try parseLiteralString())
        case "[": return try parseArray(depth: depth)
        case "{": throw error("inline tables ({...}) are not supported", at: position)
        default: return try parseBareValue()
        }
    }

    // MARK: Strings

    /// `"..."` with escapes; the cursor ends after the closing quote.
    mutating func parseBasicString() throws(TOMLError) -> String {
        let open = position
        if peek(1) == "\"", peek(2) == "\"" {
            throw error("multi-line strings (\"\"\") are not supported", at: open)
        }
        advance()
        var scalars = String.UnicodeScalarView()
        while true {
            guard let scalar = current else { throw error("unterminated string", at: open) }
            if atNewline { throw error("newline in string before its closing quote", at: open) }
            switch scalar {
            case "\"":
                advance()
                return String(scalars)
            case "\\":
                scalars.append(try parseEscape(stringStart: open))
            default:
                try checkStringScalar(scalar)
                scalars.append(scalar)
                advance()
            }
        }
    }

    /// `'...'`, taken as written; the cursor ends after the closing quote.
    mutating func parseLiteralString() throws(TOMLError) -> String {
        let open = position
        if peek(1) == "'", peek(2) == "'" {
            throw error("multi-line literal strings (''') are not supported", at: open)
        }
        advance()
        var scalars = String.UnicodeScalarView()
        while true {
            guard let scalar = current else { throw error("unterminated string", at: open) }
            if atNewline { throw error("newline in string before its closing quote", at: open) }
            if scalar == "'" {
                advance()
                return String(scalars)
            }
            try checkStringScalar(scalar)
            scalars.append(scalar)
            advance()
        }
    }

    private func checkStringScalar(_ scalar: Unicode.Scalar) throws(TOMLError) {
        if TOMLKey.isControl(scalar) {
            throw error("control character \(TOMLKey.codePoint(scalar)) in string; write it as an escape", at: position)
        }
    }

    /// The escape at the cursor's backslash, and the cursor after it.
    private mutating func parseEscape(stringStart: TOMLPosition) throws(TOMLError) -> Unicode.Scalar {
        let start = position
        advance()
        guard let scalar = current else { throw error("unterminated string", at: stringStart) }
        if atNewline || TOMLKey.isControl(scalar) {
            throw error("invalid escape sequence: '\\' followed by \(found)", at: start)
        }
        advance()
        switch scalar {
        case "b": return "\u{8}"
        case "t": return "\t"
        case "n": return "\n"
        case "f": return "\u{C}"
        case "r": return "\r"
        case "\"": return "\""
        case "\\": return "\\"
        case "u", "U": break
        default: throw error("invalid escape sequence '\\\(scalar)'", at: start)
        }
        let width = scalar == "u" ? 4 : 8
        var written = "\\\(scalar)"
        var value: UInt32 = 0
        for _ in 0..<width {
            guard let digit = current, let digitValue = Self.digitValue(digit, radix: 16) else {
                throw error("invalid escape sequence '\(written)': \\\(scalar) needs \(width) hex digits", at: start)
            }
            written.unicodeScalars.append(digit)
            value = value * 16 + UInt32(digitValue)
            advance()
        }
        guard let result = Unicode.Scalar(value) else {
            throw error("invalid escape sequence '\(written)': not a Unicode scalar value", at: start)
        }
        return result
    }

    // MARK: Arrays

    /// `[a, b, ...]`, over as many lines as it takes.
    private mutating func parseArray(depth: Int) throws(TOMLError) -> TOMLValue {
        let open = position
        guard depth < Self.maxDepth else {
            throw error("arrays nested more than \(Self.maxDepth) deep", at: open)
        }
        advance()
        var items: [TOMLValue] = []
        while true {
            try skipArraySpace()
            switch current {
            case nil: throw error("unterminated array", at: open)
            case "]":
                advance()
                return .array(items)
            default: items.append(try parseValue(depth: depth + 1))
            }
            try skipArraySpace()
            switch current {
            case nil: throw error("unterminated array", at: open)
            case ",": advance()
            case "]":
                advance()
                return .array(items)
            default: throw error("expected ',' or ']' in array, found \(found)", at: position)
            }
        }
    }

    /// Inside arrays, line breaks and comments are whitespace.
    private mutating func skipArraySpace() throws(TOMLError) {
        while true {
            skipWhitespace()
            if atNewline {
                skipNewline()
            } else if current == "#" {
                try skipComment()
            } else {
                return
            }
        }
    }

    // MARK: Numbers and booleans

    /// Booleans, numbers, and the words and dates that look like them: the value's token is read whole
    /// (`[A-Za-z0-9_+.:-]*`) so that a malformed one is reported as one thing, from its start.
    private mutating func parseBareValue() throws(TOMLError) -> TOMLValue {
        let start = position
        var token: [Unicode.Scalar] = []
        while let scalar = current, Self.isTokenScalar(scalar) {
            token.append(scalar)
            advance()
        }
        guard let first = token.first else { throw error("expected a value, found \(found)", at: start) }
        let text = String(String.UnicodeScalarView(token))
        switch text {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "inf", "+inf": return .float(.infinity)
        case "-inf": return .float(-.infinity)
        case "nan", "+nan": return .float(.nan)
        case "-nan": return .float(-.nan)
        default: break
        }
        if Self.looksLikeDateOrTime(token) { throw error("dates and times are not supported", at: start) }
        if ("a"..."z").contains(first) || ("A"..."Z").contains(first) {
            throw error("invalid value '\(text)'; strings must be quoted", at: start)
        }
        return try parseNumber(token, text: text, at: start)
    }

    private func parseNumber(_ token: [Unicode.Scalar], text: String, at start: TOMLPosition) throws(TOMLError) -> TOMLValue {
        let invalid = error("invalid number '\(text)'", at: start)
        let overflow = error("integer '\(text)' does not fit in 64 bits", at: start)
        // 0x, 0o and 0b take no sign.
        if token.count >= 2, token[0] == "0", let radix = Self.radix(prefix: token[1]) {
            var i = 2
            guard let digits = Self.digits(token, from: &i, radix: radix), i == token.count else { throw invalid }
            guard let value = Self.integer(digits, radix: radix, negative: false) else { throw overflow }
            return .integer(value)
        }
        var i = 0
        let negative = token[0] == "-"
        if token[0] == "-" || token[0] == "+" { i = 1 }
        guard let integerDigits = Self.digits(token, from: &i, radix: 10) else { throw invalid }
        var isFloat = false
        if i < token.count, token[i] == "." {
            i += 1
            guard Self.digits(token, from: &i, radix: 10) != nil else { throw invalid }
            isFloat = true
        }
        if i < token.count, token[i] == "e" || token[i] == "E" {
            i += 1
            if i < token.count, token[i] == "-" || token[i] == "+" { i += 1 }
            guard Self.digits(token, from: &i, radix: 10) != nil else { throw invalid }
            isFloat = true
        }
        guard i == token.count else { throw invalid }
        if integerDigits.count > 1, integerDigits[0] == 0 {
            throw error("leading zeros are not allowed in '\(text)'", at: start)
        }
        if isFloat {
            guard let value = Double(text.filter { $0 != "_" }), value.isFinite else {
                throw error("float '\(text)' is out of range", at: start)
            }
            return .float(value)
        }
        guard let value = Self.integer(integerDigits, radix: 10, negative: negative) else { throw overflow }
        return .integer(value)
    }

    private static func isTokenScalar(_ scalar: Unicode.Scalar) -> Bool {
        TOMLKey.isBare(scalar) || scalar == "+" || scalar == "." || scalar == ":"
    }

    /// `1979-05-27...` or `07:32...`: the starts of TOML's dates and times.
    private static func looksLikeDateOrTime(_ token: [Unicode.Scalar]) -> Bool {
        func isDigit(_ i: Int) -> Bool { i < token.count && digitValue(token[i], radix: 10) != nil }
        let date = (0..<4).allSatisfy(isDigit) && token.count > 4 && token[4] == "-" && isDigit(5) && isDigit(6)
        let time = isDigit(0) && isDigit(1) && token.count > 2 && token[2] == ":" && isDigit(3) && isDigit(4)
        return date || time
    }

    private static func radix(prefix: Unicode.Scalar) -> Int? {
        switch prefix {
        case "x": 16
        case "o": 8
        case "b": 2
        default: nil
        }
    }

    /// Reads `digit (_? digit)*` from `i`: the digit values, or nil when there is no digit at `i`. Reading stops
    /// at the first scalar that cannot continue the run, including an `_` not followed by a digit.
    private static func digits(_ token: [Unicode.Scalar], from i: inout Int, radix: Int) -> [UInt8]? {
        var values: [UInt8] = []
        while i < token.count {
            if let value = digitValue(token[i], radix: radix) {
                values.append(value)
                i += 1
            } else if token[i] == "_", !values.isEmpty, i + 1 < token.count,
                      digitValue(token[i + 1], radix: radix) != nil {
                i += 1
            } else {
                break
            }
        }
        return values.isEmpty ? nil : values
    }

    static func digitValue(_ scalar: Unicode.Scalar, radix: Int) -> UInt8? {
        let value: UInt32
        switch scalar {
        case "0"..."9": value = scalar.value - 48
        case "a"..."f": value = scalar.value - 87
        case "A"..."F": value = scalar.value - 55
        default: return nil
        }
        return value < UInt32(radix) ? UInt8(value) : nil
    }

    /// The digits' value, or nil when it does not fit in an Int64. Negative numbers are accumulated downwards
    /// so that `Int64.min` fits.
    private static func integer(_ digits: [UInt8], radix: Int, negative: Bool) -> Int64? {
        var value: Int64 = 0
        for digit in digits {
            let (shifted, overflowA) = value.multipliedReportingOverflow(by: Int64(radix))
            let (next, overflowB) = negative
                ? shifted.subtractingReportingOverflow(Int64(digit))
                : shifted.addingReportingOverflow(Int64(digit))
            if overflowA || overflowB { return nil }
            value = next
        }
        return value
    }
}
