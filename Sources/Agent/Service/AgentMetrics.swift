// The agent's own metrics: HTTP traffic, connections and the process.
import BuildInfo
import HTTP
import Platform
import Telemetry

struct AgentMetrics: Sendable {
    let registry = MetricsRegistry()
    let requests: CounterFamily
    let latency: HistogramFamily
    let protocolErrors: CounterFamily
    let reloads: CounterFamily
    let storeOperations: CounterFamily
    let syncAttempts: CounterFamily
    let syncBytes: CounterFamily
    let syncRefused: CounterFamily
    let syncLastSuccess: GaugeFamily
    let startTime = Clock.wallSeconds()

    init(openConnections: @escaping @Sendable () -> Int) {
        requests = registry.counter("outpost_http_requests_total", help: "HTTP requests answered, by route, method and status.",
                                    labelNames: ["route", "method", "status"])
        latency = registry.histogram("outpost_http_request_duration_seconds",
                                     help: "Time from a complete request to its complete response, by route and status.",
                                     labelNames: ["route", "status"], buckets: Buckets.latencySeconds)
        protocolErrors = registry.counter("outpost_http_protocol_errors_total",
                                          help: "Requests the HTTP layer rejected before routing (400, 408, 413, 431, 501, ...).",
                                          labelNames: ["status"])
        reloads = registry.counter("outpost_config_reloads_total", help: "Configuration reloads, by result.", labelNames: ["result"])
        storeOperations = registry.counter("outpost_store_operations_total",
                                           help: "Changes to the model store (install, activate, rollback, remove), by result.",
                                           labelNames: ["operation", "result"])
        syncAttempts = registry.counter("outpost_sync_attempts_total", help: "Checks of the release channel, by result.", labelNames: ["result"])
        syncBytes = registry.counter("outpost_sync_bytes_total", help: "Bytes fetched from the registry.", labelNames: [])
        syncRefused = registry.counter("outpost_sync_refused_total",
                                       help: "Releases and blobs refused (signature, rollback, expired, digest, ...), by reason.", labelNames: ["reason"])
        syncLastSuccess = registry.gauge("outpost_sync_last_success_timestamp_seconds", help: "When the last check of the channel succeeded.",
                                         labelNames: [])
        registry.gauge("outpost_http_open_connections", help: "Client connections open now.") { Double(openConnections()) }
        registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes.") {
            Double(ProcessStats.residentMemoryBytes())
        }
        let started = startTime
        registry.gauge("process_start_time_seconds", help: "Start time of the process since the Unix epoch in seconds.") { started }
        registry.gauge("outpost_build_info", help: "Always 1; the labels say which build runs.",
                       labelNames: ["version", "commit"]).labels(BuildInfo.version, BuildInfo.commit).set(1)
    }

    func observe(route: String, method: HTTPMethod, status: Int, seconds: Double) {
        let code = String(status)
        requests.labels(route, method.rawValue, code).inc()
        latency.labels(route, code).observe(seconds)
    }
}
