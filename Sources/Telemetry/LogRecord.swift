// One log event as sinks receive it.
import Platform

/// A structured field. Names follow journald's rules (`[A-Z_][A-Z0-9_]*`, at most 64 characters, not starting
/// with `_`, which journald reserves for fields it adds itself), so a journald sink can pass them through.
public struct LogField: Sendable, Hashable {
    public let name: String
    public let value: String

    /// Field names are literals in our code, so an invalid one is our bug.
    public init(_ name: String, _ value: String) {
        precondition(LogField.isValidName(name), "invalid log field name '\(name)'; use UPPER_SNAKE_CASE")
        self.name = name
        self.value = value
    }

    static func isValidName(_ name: String) -> Bool {
        var length = 0
        for byte in name.utf8 {
            let upper = byte >= 0x41 && byte <= 0x5A
            let digit = byte >= 0x30 && byte <= 0x39
            let underscore = byte == 0x5F
            guard upper || underscore || (digit && length > 0) else { return false }
            guard !(underscore && length == 0) else { return false }
            length += 1
        }
        return length > 0 && length <= 64
    }
}

public struct LogRecord: Sendable, Equatable {
    public let severity: LogSeverity
    public let message: String
    /// Context fields from `Logger.with` first, then the call's own, in the order given.
    public let fields: [LogField]
    /// Seconds since the Unix epoch.
    public let timestamp: Double

    public init(severity: LogSeverity, message: String, fields: [LogField], timestamp: Double) {
        self.severity = severity
        self.message = message
        self.fields = fields
        self.timestamp = timestamp
    }
}
