// The values a TOML document holds, and the positions that let later checks point back into the text.

/// A 1-based place in a document; columns count Unicode scalars (see `TOMLError`).
public struct TOMLPosition: Hashable, Sendable, CustomStringConvertible {
    public let line: Int
    public let column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "line \(line), column \(column)" }
}

/// One value of the TOML subset that `TOML.parse` reads.
///
/// Equality is structural, so `.float(.nan)` is not equal to itself, as with `Double`.
public indirect enum TOMLValue: Equatable, Sendable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case boolean(Bool)
    case array([TOMLValue])
    case table(TOMLTable)

    /// The TOML name of the value's type, as error messages say it.
    public var typeName: String {
        switch self {
        case .string: "string"
        case .integer: "integer"
        case .float: "float"
        case .boolean: "boolean"
        case .array: "array"
        case .table: "table"
        }
    }

    /// "an integer", "a string": the type name as a sentence uses it.
    var typeNameWithArticle: String {
        switch self {
        case .integer, .array: "an \(typeName)"
        default: "a \(typeName)"
        }
    }
}

extension TOMLValue: CustomStringConvertible {
    /// The value written as TOML, as error messages quote it (`"loud"`, `0`, `[1, 2]`). Tables come out as
    /// inline tables, which this parser does not read back; they only appear in messages and test failures.
    public var description: String {
        switch self {
        case .string(let text): TOMLKey.quoted(text)
        case .integer(let number): String(number)
        case .float(let number) where number.isNaN: "nan"
        case .float(let number) where number.isInfinite: number < 0 ? "-inf" : "inf"
        case .float(let number): String(number)
        case .boolean(let flag): flag ? "true" : "false"
        case .array(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .table(let table):
            "{" + table.entries.map { "\(TOMLKey.render([$0.key])) = \($0.value)" }.joined(separator: ", ") + "}"
        }
    }
}
