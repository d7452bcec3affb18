// The document level of the TOML parser: a cursor over the text, lines, comments, keys and table headers.
// Values are read in TOMLParser+Values.swift; what the keys define is decided by TOMLBuilder.

/// One part of a dotted key, with where it was written.
struct TOMLKeyPart {
    let name: String
    let position: TOMLPosition
}

struct TOMLParser {
    /// Tables and arrays nested deeper than this are refused, so that building, comparing and printing values,
    /// which recurse, stay far from the stack's limit whatever the input.
    static let maxDepth = 128

    let file: String
    let text: [Unicode.Scalar]
    var index = 0
    var line = 1
    /// Index of the first scalar of the current line: columns are measured from here.
    var lineStart = 0
    var builder: TOMLBuilder

    init(text: String, file: String) {
        self.file = file
        self.text = Array(text.unicodeScalars)
        builder = TOMLBuilder(file: file)
        // A byte order mark is not content, and editors do not show it as a column.
        if self.text.first == "\u{FEFF}" {
            index = 1
            lineStart = 1
        }
    }

    // MARK: Cursor

    var position: TOMLPosition { TOMLPosition(line: line, column: index - lineStart + 1) }

    var current: Unicode.Scalar? { index < text.count ? text[index] : nil }

    func peek(_ offset: Int) -> Unicode.Scalar? {
        index + offset < text.count ? text[index + offset] : nil
    }

    /// At a line break: `\n` or `\r\n`. A lone `\r` is not one, and is refused wherever it appears.
    var atNewline: Bool { current == "\n" || (current == "\r" && peek(1) == "\n") }

    /// Steps over one scalar that is not a line break.
    mutating func advance() { index += 1 }

    mutating func skipNewline() {
        index += current == "\r" ? 2 : 1
        line += 1
        lineStart = index
    }

    mutating func skipWhitespace() {
        while current == " " || current == "\t" { index += 1 }
    }

    /// What the cursor is at, for messages: `'x'`, `U+0007`, `end of line`, `end of file`.
    var found: String {
        guard let scalar = current else { return "end of file" }
        if atNewline { return "end of line" }
        return Self.describe(scalar)
    }

    static func describe(_ scalar: Unicode.Scalar) -> String {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? TOMLKey.codePoint(scalar) : "'\(scalar)'"
    }

    func error(_ message: String, at position: TOMLPosition) -> TOMLError {
        TOMLError(file: file, position: position, message: message)
    }

    // MARK: Lines

    mutating func parseDocument() throws(TOMLError) -> TOMLTable {
        while true {
            skipWhitespace()
            guard let scalar = current else { return builder.build() }
            if atNewline {
                skipNewline()
            } else if scalar == "#" {
                try skipComment()
            } else if scalar == "[" {
                try parseHeader()
                try expectLineEnd(after: "table header")
            } else {
                try parseKeyValue()
                try expectLineEnd(after: "value")
            }
        }
    }

    /// Skips from `#` to the end of the line, which stays unconsumed.
    mutating func skipComment() throws(TOMLError) {
        advance()
        while let scalar = current, !atNewline {
            if TOMLKey.isControl(scalar) {
                throw error("control character \(TOMLKey.codePoint(scalar)) in comment", at: position)
            }
            advance()
        }
    }

    /// After a header or a value only whitespace and a comment may follow on the line.
    mutating func expectLineEnd(after what: String) throws(TOMLError) {
        skipWhitespace()
        if current == "#" { try skipComment() }
        if current == nil { return }
        guard atNewline else {
            throw error("unexpected \(found) after \(what); expected end of line", at: position)
        }
        skipNewline()
    }

    /// `[a.b]`: opens the table that the following pairs go into.
    mutating func parseHeader() throws(TOMLError) {
        let open = position
        advance()
        if current == "[" { throw error("arrays of tables ([[...]]) are not supported", at: open) }
        skipWhitespace()
        let key = try parseKey()
        guard current == "]" else {
            throw error("expected ']' to close table header, found \(found)", at: position)
        }
        advance()
        try builder.openTable(key)
    }

    mutating func parseKeyValue() throws(TOMLError) {
        let key = try parseKey()
        guard current == "=" else {
            let name = TOMLKey.render(key.map(\.name))
            throw error("expected '=' after key '\(name)', found \(found)", at: position)
        }
        advance()
        skipWhitespace()
        let valuePosition = position
        let value = try parseValue(depth: 0)
        try builder.define(key, value: value, at: valuePosition)
    }

    // MARK: Keys

    /// A dotted key, and the whitespace after it.
    mutating func parseKey() throws(TOMLError) -> [TOMLKeyPart] {
        var parts = [try parseSimpleKey()]
        skipWhitespace()
        while current == "." {
            advance()
            skipWhitespace()
            parts.append(try parseSimpleKey())
            skipWhitespace()
        }
        return parts
    }

    mutating func parseSimpleKey() throws(TOMLError) -> TOMLKeyPart {
        let start = position
        switch current {
        case "\"":
            return TOMLKeyPart(name: try parseBasicString(), position: start)
        case "'":
            return TOMLKeyPart(name: try parseLiteralString(), position: start)
        case let scalar? where TOMLKey.isBare(scalar):
            var name = String.UnicodeScalarView()
            while let scalar = current, TOMLKey.isBare(scalar) {
                name.append(scalar)
                advance()
            }
            return TOMLKeyPart(name: String(name), position: start)
        default:
            throw error("expected a key, found \(found)", at: start)
        }
    }
}
