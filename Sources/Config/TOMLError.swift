/// A problem in a TOML document: which file, where in it, and what is wrong there.
///
/// Lines and columns are 1-based. Columns count Unicode scalars from the start of the line (a tab or an `é` is
/// one column), so a position never falls inside a UTF-8 sequence; a leading byte order mark is not counted.
/// Both syntax errors and the configuration's own rules (unknown keys, values out of range) use this type,
/// so every message about a configuration file reads the same way.
public struct TOMLError: Error, Equatable, Sendable, CustomStringConvertible {
    public let file: String
    public let line: Int
    public let column: Int
    public let message: String

    public init(file: String, line: Int, column: Int, message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
    }

    public init(file: String, position: TOMLPosition, message: String) {
        self.init(file: file, line: position.line, column: position.column, message: message)
    }

    public var position: TOMLPosition { TOMLPosition(line: line, column: column) }

    /// `file:line:column: message`, the form compilers use, so editors can jump to the place.
    public var description: String { "\(file):\(line):\(column): \(message)" }
}
