// Delivering the telemetry spool to the central collector over OTLP/HTTP JSON: every interval (with jitter) the
// undelivered records go in batches, oldest first, to `<endpoint>/v1/logs`; the spool's cursor moves only after
// the collector acknowledged (2xx). A 400 means the batch would never be accepted: it is dropped and counted. A
// 429 or 503 with Retry-After is honoured; other failures back off exponentially. Offline for days is normal.
import Dispatch
import FoundationEssentials
import Net
import Platform
import Synchronization
import Telemetry

public final class TelemetryExporter: Sendable {
    public struct Status: Sendable, Encodable {
        public var endpoint: String
        public var lastExport: String?
        public var lastError: String?
        public var exportedRecords = 0
        public var droppedRecords = 0
        enum CodingKeys: String, CodingKey {
            case endpoint
            case lastExport = "last_export"
            case lastError = "last_error"
            case exportedRecords = "exported_records"
            case droppedRecords = "dropped_records"
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(endpoint, forKey: .endpoint)
            try c.encode(lastExport, forKey: .lastExport)
            try c.encode(lastError, forKey: .lastError)
            try c.encode(exportedRecords, forKey: .exportedRecords)
            try c.encode(droppedRecords, forKey: .droppedRecords)
        }
    }

    let spool: Spool
    public let endpoint: String
    let net: NetClient
    let resource: [(String, String)]
    let version: String
    let intervalSeconds: Double
    let batchSize: Int
    /// A snapshot of the agent's metrics, spooled at each export.
    let snapshot: (@Sendable () -> MetricsRecord)?
    private let state: Mutex<Status>
    private let loop: PeriodicLoop

    public init(spool: Spool, endpoint: String, options: NetOptions, allowInsecure: Bool, resource: [(String, String)], version: String,
                intervalSeconds: Double, batchSize: Int = 500, snapshot: (@Sendable () -> MetricsRecord)? = nil) throws(RegistryError) {
        var base = endpoint
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("https://") || (base.hasPrefix("http://") && (allowInsecure || RegistryClient.isLoopback(base))) else {
            throw RegistryError("the telemetry endpoint must be https:// (http:// only on a loopback address or with allow_insecure), got \(endpoint)")
        }
        self.spool = spool
        self.endpoint = base
        net = NetClient(options: options)
        self.resource = resource
        self.version = version
        self.intervalSeconds = intervalSeconds
        self.batchSize = batchSize
        self.snapshot = snapshot
        state = Mutex(Status(endpoint: base))
        loop = PeriodicLoop(label: "outpost.telemetry", intervalSeconds: intervalSeconds)
    }

    public var status: Status { state.withLock { $0 } }

    public func start() {
        loop.start(round: { [self] in
            switch exportOnce() {
            case .success: return nil
            case .failure(let error): return error.retryAfter ?? 0
            }
        })
    }

    public func stop() { loop.stop() }

    public func exportNow() { loop.now() }

    /// Spools a metrics snapshot, then sends every undelivered record, batch by batch (logs to /v1/logs, metric
    /// snapshots to /v1/metrics), until the spool has none or a batch fails.
    @discardableResult
    public func exportOnce() -> Result<Void, RegistryError> {
        if let snapshot, let bytes = try? JSONEncoder().encode(snapshot()) {
            _ = try? spool.append(.metrics, [UInt8](bytes))
        }
        while true {
            let batch = spool.pending(limit: batchSize)
            guard !batch.isEmpty else { return .success(()) }
            var response: NetResponse?
            let logs = batch.filter { $0.kind == .audit || $0.kind == .warning }
            let parts: [(String, [UInt8]?)] = [
                ("/v1/logs", logs.isEmpty ? nil : OTLPLogs.request(logs, resource: resource, version: version)),
                ("/v1/metrics", OTLPMetrics.request(batch, resource: resource, version: version)),
            ]
            for (path, body) in parts {
                guard let body else { continue }
                do {
                    response = try net.perform(NetRequest("POST", endpoint + path, headers: [("Content-Type", "application/json")], body: .bytes(body)))
                } catch {
                    return fail(RegistryError(error.message, transient: error.transient))
                }
                // The batch is acknowledged only when every part of it was.
                if !(200..<300).contains(response!.status) { break }
            }
            guard let response else {
                // Nothing in it the collector takes (request summaries come later): acknowledge it as it is.
                try? spool.acknowledge(batch)
                continue
            }
            switch response.status {
            case 200..<300:
                do {
                    try spool.acknowledge(batch)
                } catch {
                    return fail(RegistryError(error.message))
                }
                let now = UTCTimestamp.format(wholeSeconds: Int64(Clock.wallSeconds()))
                state.withLock { $0.lastExport = now; $0.exportedRecords += batch.count; $0.lastError = nil }
            case 400:
                // The collector will never take this batch: drop it, counted, rather than block everything after it.
                try? spool.acknowledge(batch)
                state.withLock { $0.droppedRecords += batch.count }
                return fail(RegistryError("the collector refused a batch of \(batch.count) records (400): \(response.text.prefix(200)); dropped"))
            default:
                let retryAfter = response.header("Retry-After").flatMap { Double($0.filter { $0 != " " }) }
                return fail(RegistryError("the collector answered \(response.status)", transient: true, retryAfter: retryAfter))
            }
        }
    }

    private func fail(_ error: RegistryError) -> Result<Void, RegistryError> {
        state.withLock { $0.lastError = error.message }
        return .failure(error)
    }
}
