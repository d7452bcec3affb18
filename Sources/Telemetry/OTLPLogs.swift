// Spooled log records (audit events, warnings) as an OTLP/HTTP JSON ExportLogsServiceRequest (opentelemetry-proto
// `opentelemetry/proto/collector/logs/v1`, in the protobuf JSON mapping the OpenTelemetry Collector receives on
// /v1/logs): one resource naming the site, one scope, a LogRecord per spool record carrying its sequence number so
// the receiver can drop the duplicates at-least-once delivery may bring.
import JSON
import Platform

public enum OTLPLogs {
    struct LogRecord: Encodable {
        let timeUnixNano: String
        let observedTimeUnixNano: String
        let severityNumber: Int
        let severityText: String
        let body: OTLP.AnyValue
        let attributes: [OTLP.KeyValue]
    }

    struct ScopeLogs: Encodable {
        let scope: OTLP.Scope
        let logRecords: [LogRecord]
    }

    struct ResourceLogs: Encodable {
        let resource: OTLP.Resource
        let scopeLogs: [ScopeLogs]
    }

    struct Request: Encodable {
        let resourceLogs: [ResourceLogs]
    }

    /// OTLP's SeverityNumber for our severities (notice is INFO2).
    static func severityNumber(_ name: String) -> Int {
        switch name {
        case "debug": return 5
        case "info": return 9
        case "notice": return 10
        case "warning": return 13
        case "error": return 17
        default: return 0
        }
    }

    /// Nanoseconds since the epoch of `2026-12-08T01:25:31.123Z`.
    static func unixNanos(_ time: String) -> String {
        guard let seconds = UTCTimestamp.parse(time) else { return "0" }
        var millis: Int64 = 0
        if let dot = time.firstIndex(of: "."), let end = time.firstIndex(of: "Z") {
            let digits = String(time[time.index(after: dot)..<end].prefix(3))
            millis = (Int64(digits) ?? 0) * Int64([100, 10, 1][max(0, min(2, digits.count - 1))])
        }
        return String(seconds * 1_000_000_000 + millis * 1_000_000)
    }

    /// The request body for `records` (those that are not log records are left out); `resource` names the site.
    public static func request(_ records: [SpoolRecord], resource: [(String, String)], version: String) -> [UInt8] {
        var logs: [LogRecord] = []
        for record in records where record.kind == .audit || record.kind == .warning {
            guard let reader = try? JSONObjectReader(parsing: record.payload),
                  let time = try? reader.string("time"), let severity = try? reader.string("severity"),
                  let message = try? reader.string("message") else { continue }
            var attributes = [OTLP.KeyValue("outpost.sequence", String(record.sequence)), OTLP.KeyValue("outpost.kind", record.kind.name)]
            if let fields = try? reader.object("fields") {
                for (key, _) in fields.members {
                    if let value = try? fields.string(key) {
                        attributes.append(OTLP.KeyValue("outpost." + key.lowercased(), value))
                    }
                }
            }
            let nanos = unixNanos(time)
            logs.append(LogRecord(timeUnixNano: nanos, observedTimeUnixNano: nanos, severityNumber: severityNumber(severity),
                                  severityText: severity.uppercased(), body: OTLP.AnyValue(stringValue: message), attributes: attributes))
        }
        let request = Request(resourceLogs: [ResourceLogs(
            resource: OTLP.resource(resource),
            scopeLogs: [ScopeLogs(scope: OTLP.Scope(name: "outpost", version: version), logRecords: logs)])])
        return Array(JSONWriter.encode(request).utf8)
    }
}
