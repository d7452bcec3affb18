// The HTTP API of the agent: health, readiness, version, status and metrics.
import BuildInfo
import FoundationEssentials
import HTTP
import JSON
import Platform
import Serving
import Sync
import Telemetry

struct VersionBody: Encodable {
    struct Build: Encodable {
        let configuration: String
        let architecture: String
        let compiler: String
        let staticStdlib: Bool
        enum CodingKeys: String, CodingKey {
            case configuration, architecture, compiler
            case staticStdlib = "static_stdlib"
        }
    }
    let version: String
    let commit: String
    let build: Build
}

public struct StatusBody: Encodable, Sendable {
    public let version: String
    public let commit: String
    public let pid: Int32
    public let uptimeSeconds: Double
    public let socket: String
    public let stateDirectory: String
    public let openConnections: Int
    public let state: String
    public let models: [String]
    enum CodingKeys: String, CodingKey {
        case version, commit, pid, socket, state, models
        case uptimeSeconds = "uptime_seconds"
        case stateDirectory = "state_dir"
        case openConnections = "open_connections"
    }
}

/// What the routes need to know about the running agent.
protocol AgentState: Sendable {
    var socketPath: String { get }
    var stateDirectory: String { get }
    var isDraining: Bool { get }
    var openConnections: Int { get }
    var startedAt: Double { get }
    /// Models loaded and serving.
    var modelNames: [String] { get }
    /// Why configured models are not serving (empty when all are).
    var modelProblems: [String] { get }
}

enum APIRoutes {
    static func make(state: any AgentState, metrics: AgentMetrics, serving: ServingMetrics, debugRoutes: Bool, models: ModelManager,
                     limiter: RateLimiter, admin: AccessPolicy, actions: AdminActions, logger: LoggerBox,
                     store: BundleAdmin? = nil, storeClosedReason: String = "no store key", sync: SyncEngine? = nil,
                     spool: Spool? = nil, exporter: TelemetryExporter? = nil) -> Router {
        var router = Router()
        OpenAIRoutes.add(to: &router, models: models, metrics: serving, limiter: limiter, logger: logger)
        AdminRoutes.add(to: &router, policy: admin, actions: actions, denied: serving.adminDenied, logger: logger,
                        store: store, storeClosedReason: storeClosedReason, sync: sync, spool: spool, exporter: exporter)
        let health = HTTPResponse.json(.ok, "{\"status\":\"ok\"}")
        router.add(.get, "/v1/health") { _, writer in writer.respond(health) }

        router.add(.get, "/v1/ready") { _, writer in
            if state.isDraining {
                writer.respond(.error(.serviceUnavailable, "the agent is shutting down", code: "draining"))
            } else if !state.modelProblems.isEmpty {
                writer.respond(.error(.serviceUnavailable, state.modelProblems.joined(separator: "; "), code: "models_not_ready"))
            } else {
                let names = state.modelNames.map(JSONText.quote).joined(separator: ",")
                writer.respond(.json(.ok, "{\"status\":\"ready\",\"models\":[\(names)]}"))
            }
        }

        let version = VersionBody(
            version: BuildInfo.version, commit: BuildInfo.commit,
            build: .init(configuration: BuildInfo.configuration, architecture: BuildInfo.architecture,
                         compiler: BuildInfo.compiler, staticStdlib: staticStdlib()))
        let versionResponse = HTTPResponse.json(.ok, JSONWriter.encode(version))
        router.add(.get, "/v1/version") { _, writer in writer.respond(versionResponse) }

        router.add(.get, "/v1/status") { _, writer in
            let body = StatusBody(
                version: BuildInfo.version, commit: BuildInfo.commit, pid: ProcessStats.pid,
                uptimeSeconds: (Clock.wallSeconds() - state.startedAt) * 1000 .rounded() / 1000,
                socket: state.socketPath, stateDirectory: state.stateDirectory, openConnections: state.openConnections,
                state: state.isDraining ? "draining" : "serving", models: state.modelNames)
            writer.respond(.json(.ok, JSONWriter.encode(body)))
        }

        router.add(.get, "/metrics") { _, writer in
            writer.respond(.text(.ok, metrics.registry.exposition(), contentType: "text/plain; version=0.0.4; charset=utf-8"))
        }

        if debugRoutes { DebugRoutes.add(to: &router) }
        return router
    }

    /// Whether the Swift runtime is linked into the binary (release packages) rather than loaded as a shared library.
    static func staticStdlib() -> Bool {
        guard let maps = try? ProcessStats.readSmallFile("/proc/self/maps", limit: 1 << 22) else { return false }
        return !maps.contains("libswiftCore.so")
    }
}
