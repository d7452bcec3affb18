// Log severities, numbered as syslog priorities so a journald sink can pass them through unchanged.

public enum LogSeverity: Int, Sendable, Comparable, CaseIterable {
    case debug = 7
    case info = 6
    case notice = 5
    case warning = 4
    case error = 3

    /// Parses the lowercase names used in configuration and on the command line; nil for anything else.
    public init?(name: String) {
        switch name {
        case "debug": self = .debug
        case "info": self = .info
        case "notice": self = .notice
        case "warning": self = .warning
        case "error": self = .error
        default: return nil
        }
    }

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .notice: "notice"
        case .warning: "warning"
        case .error: "error"
        }
    }

    /// Ordered by how much it matters, `debug < error`, the reverse of syslog numbering.
    public static func < (lhs: LogSeverity, rhs: LogSeverity) -> Bool {
        lhs.rawValue > rhs.rawValue
    }
}
