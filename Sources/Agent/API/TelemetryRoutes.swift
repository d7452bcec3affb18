// /v1/admin/telemetry: the spool's state, and its records for a site admin who reads them locally.
//   GET /v1/admin/telemetry                                 backlog, oldest undelivered, drops by kind, damage, export
//   GET /v1/admin/telemetry/records[?kind=K][&limit=N]      undelivered records, oldest first, one JSON per line
import HTTP
import JSON
import Sync
import Telemetry

enum TelemetryRoutes {
    struct StatusAnswer: Encodable {
        let backlogRecords: Int
        let backlogBytes: Int64
        let oldestUndelivered: UInt64?
        let dropped: [String: Int]
        let corrupt: Int
        let spoolBytes: Int64
        let spoolMaxBytes: Int64
        let endpoint: String?
        let export: TelemetryExporter.Status?
        enum CodingKeys: String, CodingKey {
            case dropped, corrupt, endpoint, export
            case backlogRecords = "backlog_records"
            case backlogBytes = "backlog_bytes"
            case oldestUndelivered = "oldest_undelivered"
            case spoolBytes = "spool_bytes"
            case spoolMaxBytes = "spool_max_bytes"
        }

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(backlogRecords, forKey: .backlogRecords)
            try c.encode(backlogBytes, forKey: .backlogBytes)
            try c.encode(oldestUndelivered, forKey: .oldestUndelivered)
            try c.encode(dropped, forKey: .dropped)
            try c.encode(corrupt, forKey: .corrupt)
            try c.encode(spoolBytes, forKey: .spoolBytes)
            try c.encode(spoolMaxBytes, forKey: .spoolMaxBytes)
            try c.encode(endpoint, forKey: .endpoint)
            try c.encode(export, forKey: .export)
        }
    }

    struct RecordLine: Encodable {
        let sequence: UInt64
        let kind: String
        let record: SpoolingLogSink.Entry?
        let payload: String?
    }

    static func add(to router: inout Router, spool: Spool?, exporter: TelemetryExporter?,
                    allowed: @escaping @Sendable (HTTPRequest, ResponseWriter, String) -> Bool) {
        router.add(.get, "/v1/admin/telemetry") { request, writer in
            guard allowed(request, writer, "telemetry") else { return }
            guard let spool else {
                writer.respond(.error(.serviceUnavailable, "the telemetry spool is not open (see the journal)", code: "spool_closed"))
                return
            }
            let status = spool.status
            writer.respond(.json(.ok, JSONWriter.encode(StatusAnswer(
                backlogRecords: status.backlogRecords, backlogBytes: status.backlogBytes, oldestUndelivered: status.oldestUndelivered,
                dropped: status.dropped, corrupt: status.corrupt, spoolBytes: status.bytes, spoolMaxBytes: spool.maxBytes,
                endpoint: exporter?.endpoint, export: exporter?.status))))
        }
        router.add(.get, "/v1/admin/telemetry/records") { request, writer in
            guard allowed(request, writer, "telemetry") else { return }
            guard let spool else {
                writer.respond(.error(.serviceUnavailable, "the telemetry spool is not open (see the journal)", code: "spool_closed"))
                return
            }
            let kind = request.queryValue("kind").map(String.init)
            if let kind, !SpoolKind.allCases.contains(where: { $0.name == kind }) {
                writer.respond(.error(.badRequest, "kind must be one of \(SpoolKind.allCases.map(\.name).joined(separator: ", "))"))
                return
            }
            let limit = request.queryValue("limit").flatMap { Int($0) }.map { min(max($0, 1), 10_000) } ?? 100
            let records = spool.pending(limit: 100_000).filter { kind == nil || $0.kind.name == kind }.suffix(limit)
            let writerJSON = JSONWriter()
            let lines = records.map { record in
                let entry = try? JSONDecoderBox.decode(record.payload)
                return writerJSON.string(RecordLine(sequence: record.sequence, kind: record.kind.name, record: entry,
                                                    payload: entry == nil ? String(decoding: record.payload, as: UTF8.self) : nil))
            }
            var headers = HTTPHeaders()
            headers.add("Content-Type", "application/x-ndjson")
            writer.respond(HTTPResponse(status: .ok, headers: headers, body: Array((lines.joined(separator: "\n") + (lines.isEmpty ? "" : "\n")).utf8)))
        }
    }
}

/// Decoding a spooled log record's payload.
enum JSONDecoderBox {
    static func decode(_ bytes: [UInt8]) throws -> SpoolingLogSink.Entry {
        let reader = try JSONObjectReader(parsing: bytes)
        var fields: [String: String] = [:]
        if let object = try reader.object("fields") {
            for (key, _) in object.members { fields[key] = try object.string(key) }
        }
        return SpoolingLogSink.Entry(time: try reader.required("time", reader.string), severity: try reader.required("severity", reader.string),
                                     message: try reader.required("message", reader.string), fields: fields)
    }
}
