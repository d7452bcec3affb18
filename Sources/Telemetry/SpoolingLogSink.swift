// Log records that must reach the central team go to the spool as well as to the journal: audit events (a record
// with an AUDIT field), written durably before the logging call returns, so before the action they describe is
// reported done; and warnings and errors, group-committed.
import JSON
import Platform

public struct SpoolingLogSink: LogSink {
    let next: any LogSink
    let spool: Spool

    public init(next: any LogSink, spool: Spool) {
        self.next = next
        self.spool = spool
    }

    /// What a spooled log record holds (its payload, JSON).
    public struct Entry: Codable, Sendable, Equatable {
        public let time: String
        public let severity: String
        public let message: String
        public let fields: [String: String]

        public init(time: String, severity: String, message: String, fields: [String: String]) {
            self.time = time
            self.severity = severity
            self.message = message
            self.fields = fields
        }
    }

    public func write(_ record: LogRecord) {
        next.write(record)
        let audit = record.fields.contains { $0.name == "AUDIT" }
        guard audit || record.severity >= .warning else { return }
        let entry = Entry(time: UTCTimestamp.format(secondsSinceEpoch: record.timestamp), severity: record.severity.name,
                          message: record.message, fields: Dictionary(record.fields.map { ($0.name, $0.value) }, uniquingKeysWith: { $1 }))
        // A full or failing spool counts the drop itself; logging goes on.
        _ = try? spool.append(audit ? .audit : .warning, Array(JSONWriter.encode(entry).utf8), durable: audit)
    }
}
