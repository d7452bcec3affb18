// /v1/admin/...: operations on the running agent, for root and members of [access] admin_group only.
//   POST /v1/admin/reload            re-read the configuration and load, reload or drop models to match it
//   POST /v1/admin/unload {"model"}  stop serving a model (requests in flight finish first)
//   and the store's routes (StoreRoutes.swift)
// Denials are audit events (uid, pid, executable) and are counted.
import HTTP
import JSON
import Platform
import Serving
import Sync
import Telemetry

struct AdminActions: Sendable {
    /// Re-reads the configuration; answers on the writer when the models match it.
    let reload: @Sendable (ResponseWriter) -> Void
    /// Unloads a model; answers on the writer once it has drained.
    let unload: @Sendable (String, ResponseWriter) -> Void
}

enum AdminRoutes {
    static func add(to router: inout Router, policy: AccessPolicy, actions: AdminActions, denied: CounterFamily, logger: LoggerBox,
                    store: BundleAdmin?, storeClosedReason: String, sync: SyncEngine?, spool: Spool?, exporter: TelemetryExporter?) {
        @Sendable func allowed(_ request: HTTPRequest, _ writer: ResponseWriter, _ what: String) -> Bool {
            guard !policy.allows(request.peer) else { return true }
            denied.labels(what).inc()
            policy.deny(request.peer, what: "the admin routes (\(what))", event: "admin_denied", summary: "admin denied", fields: [LogField("ACTION", what)],
                        writer: writer, logger: logger)
            return false
        }
        StoreRoutes.add(to: &router, admin: store, closedReason: storeClosedReason, sync: sync, allowed: allowed)
        TelemetryRoutes.add(to: &router, spool: spool, exporter: exporter, allowed: allowed)
        router.add(.post, "/v1/admin/reload") { request, writer in
            guard allowed(request, writer, "reload") else { return }
            actions.reload(writer)
        }
        router.add(.post, "/v1/admin/unload") { request, writer in
            guard allowed(request, writer, "unload") else { return }
            do throws(JSONFieldError) {
                let body = try UnloadRequestBody(request.body)
                actions.unload(body.model, writer)
            } catch {
                writer.respond(.error(.badRequest, error.message))
            }
        }
    }
}
