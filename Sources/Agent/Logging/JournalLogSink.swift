// Log records as structured journald entries, and the choice between journald and readable stderr lines.
import Config
import Platform
import Systemd
import Telemetry

struct JournalLogSink: LogSink {
    let identifier: String

    func write(_ record: LogRecord) {
        var fields: [(name: String, value: String)] = [
            ("MESSAGE", record.message),
            ("PRIORITY", String(record.severity.rawValue)),
            ("SYSLOG_IDENTIFIER", identifier),
        ]
        for field in record.fields { fields.append((field.name, field.value)) }
        Journal.send(fields)
    }
}

struct StandardErrorWriter {
    static func write(_ line: String) {
        try? FileDescriptor.standardError.writeAll(line + "\n")
    }
}

enum LogSetup {
    /// Journald when asked for, or when `auto` and stderr is the journal; readable lines on stderr otherwise.
    /// With `spool`, audit events and warnings are also kept there for the central collector.
    static func makeLogger(level: LogSeverity, format: LogFormat, identifier: String, spool: Spool? = nil) -> Logger {
        let useJournal = format == .journal || (format == .auto && Journal.isStandardErrorJournal())
        let sink: any LogSink = useJournal
            ? JournalLogSink(identifier: identifier)
            : TextLogSink(write: { StandardErrorWriter.write($0) })
        return Logger(minimum: level, sink: spool.map { SpoolingLogSink(next: sink, spool: $0) } ?? sink)
    }
}
