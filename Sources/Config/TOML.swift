/// Parsing the subset of TOML 1.0 that Outpost's configuration is written in.
///
/// Supported:
/// - comments (`#` to the end of the line) and blank lines; lines end in `\n` or `\r\n`
/// - `key = value` pairs; bare keys (`A-Za-z0-9_-`), quoted keys (`"a b"`, `'a b'`), dotted keys (`a.b = 1`)
/// - table headers: `[a]`, `[a.b]`, `[models."my-model"]`
/// - basic strings `"..."` with the escapes `\" \\ \n \t \r \b \f \uXXXX \UXXXXXXXX`; literal strings `'...'`
/// - integers: decimal with optional sign and `_` between digits, and `0x` hex, `0o` octal, `0b` binary
///   (64-bit signed; larger is an error)
/// - floats: `1.5`, `-2e3`, `1_000.5`, `inf`, `nan`, with optional sign
/// - booleans `true`, `false`
/// - arrays `[1, "a", [2]]`, which may span lines, hold comments, end with a comma and mix types
///
/// Not supported, each refused with an error that names it: multi-line strings (`"""`, `'''`), inline tables
/// (`{...}`), arrays of tables (`[[x]]`), dates and times.
///
/// Tables follow TOML's rules: a key is defined once; a table is defined once, by a header or by dotted keys,
/// and headers may add sub-tables to either; dotted keys may only extend tables they created in the same
/// section. Keys compare as Swift strings do, by canonical equivalence, so a precomposed `é` and `e` followed by
/// a combining accent are the same key. Tables and arrays nest at most `TOMLParser.maxDepth` (128) deep.
///
/// Errors are `TOMLError`s whose position is where the problem starts: the opening quote of an unterminated
/// string, the first character of a number that overflows, the key that is defined twice.
public enum TOML {
    /// Parses `text`; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> TOMLTable {
        var parser = TOMLParser(text: text, file: file)
        return try parser.parseDocument()
    }

    /// Parses the bytes of a file, which must be UTF-8; the error for bytes that are not points at the first
    /// bad one, counting columns as `parse` does.
    public static func parse(utf8 bytes: [UInt8], file: String) throws(TOMLError) -> TOMLTable {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw TOMLError(file: file, position: firstInvalidUTF8(in: bytes), message: "file is not valid UTF-8")
        }
        return try parse(text, file: file)
    }

    private static func firstInvalidUTF8(in bytes: [UInt8]) -> TOMLPosition {
        var line = 1
        var column = 1
        var atStart = true
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        while case .scalarValue(let scalar) = decoder.decode(&iterator) {
            if scalar == "\n" {
                line += 1
                column = 1
            } else if !(atStart && scalar == "\u{FEFF}") {
                column += 1
            }
            atStart = false
        }
        return TOMLPosition(line: line, column: column)
    }
}
