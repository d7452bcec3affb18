// Human-readable log lines for a terminal or a plain stderr capture:
// `2026-11-23T06:50:04.123Z notice model loaded model=llama size_bytes=4368439584 path="/var/lib/my models"`

import Platform

public struct TextLogSink: LogSink {
    private let writeLine: @Sendable (String) -> Void

    /// `write` receives one complete record as a single line without its terminating newline; the writer adds
    /// it, ideally in the same write(2), so lines from different threads do not interleave.
    public init(write: @escaping @Sendable (String) -> Void) {
        writeLine = write
    }

    public func write(_ record: LogRecord) {
        writeLine(TextLogSink.format(record))
    }

    /// The line for `record`, without a newline: timestamp, severity, message with line breaks escaped, then
    /// `name=value` fields with lowercase names, quoting values that would otherwise not read back as one token.
    public static func format(_ record: LogRecord) -> String {
        var line = UTCTimestamp.format(secondsSinceEpoch: record.timestamp)
        line += " "
        line += record.severity.name
        line += " "
        line += escapeMessage(record.message)
        for field in record.fields {
            line += " "
            line += field.name.lowercased()
            line += "="
            line += quoteIfNeeded(field.value)
        }
        return line
    }

    /// Keeps one record on one line.
    static func escapeMessage(_ message: String) -> String {
        guard message.utf8.contains(where: { $0 == 0x0A || $0 == 0x0D }) else { return message }
        var escaped = ""
        for scalar in message.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Bare when the value is one plain token; otherwise in double quotes with `\`, `"` and control characters
    /// escaped. Empty values are quoted so `key=` is never ambiguous.
    static func quoteIfNeeded(_ value: String) -> String {
        let needsQuotes =
            value.isEmpty
            || value.utf8.contains { $0 == 0x20 || $0 == 0x22 || $0 == 0x3D || $0 < 0x20 || $0 == 0x7F }
        guard needsQuotes else { return value }
        var quoted = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\\": quoted += "\\\\"
            case "\"": quoted += "\\\""
            case "\n": quoted += "\\n"
            case "\r": quoted += "\\r"
            case "\t": quoted += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    quoted += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        quoted += "\""
        return quoted
    }
}
