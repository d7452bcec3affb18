// outpostd's life: load configuration, take or create the socket, serve, reload on SIGHUP, drain on SIGTERM.
// This file wires services together; the algorithms live in their modules.
import BuildInfo
import Config
import HTTP
import Platform
import Serving
import Store
import Synchronization
import Systemd
import Telemetry

public enum AgentExit {
    public static let success: Int32 = 0
    public static let failure: Int32 = 1
    /// sysexits EX_CONFIG: the configuration is wrong.
    public static let configuration: Int32 = 78
}

public final class AgentService: @unchecked Sendable {
    private let options: DaemonOptions
    private let notifier = Notifier()
    private let logger: LoggerBox
    private var config: Config {
        didSet { sharedConfig.set(config) }
    }
    /// The same, for the store's queue.
    private let sharedConfig: SharedConfig
    private var store: Store?
    private var spool: Spool?

    private init(options: DaemonOptions, config: Config) {
        self.options = options
        self.config = config
        sharedConfig = SharedConfig(config)
        logger = LoggerBox(LogSetup.makeLogger(level: config.logLevel, format: config.logFormat, identifier: "outpostd"))
    }

    /// Runs the daemon in the foreground; returns the process exit status.
    public static func run(options: DaemonOptions) -> Int32 {
        // Signals become events on the serving loop; block them before any thread exists so every thread inherits it.
        let signals: SignalFD
        do {
            signals = try SignalFD(signals: [Signals.terminate, Signals.interrupt, Signals.hangup])
        } catch {
            StandardErrorWriter.write("outpostd: \(error)")
            return AgentExit.failure
        }
        Signals.ignoreBrokenPipe()
        let config: Config
        do {
            config = try options.loadConfig()
        } catch {
            StandardErrorWriter.write("outpostd: \(error)")
            return AgentExit.configuration
        }
        return AgentService(options: options, config: config).serve(signals: signals)
    }

    private var log: Logger { logger.current }

    private func serve(signals: SignalFD) -> Int32 {
        notifier.status("Starting")
        do {
            try AtomicFile.makeDirectories(config.stateDirectory)
        } catch {
            log.error("cannot create the state directory: \(error)", [LogField("STATE_DIR", config.stateDirectory)])
            return AgentExit.failure
        }
        // The telemetry spool: audit events and warnings are kept there from now on, through restarts and days offline.
        do {
            let spool = try Spool(directory: config.stateDirectory + "/spool", maxBytes: Int64(config.spoolMaxMiB) << 20)
            self.spool = spool
            logger.replace(LogSetup.makeLogger(level: config.logLevel, format: config.logFormat, identifier: "outpostd", spool: spool))
            let status = spool.status
            if status.corrupt > 0 { log.warning("telemetry spool: \(status.corrupt) damaged record(s) skipped", [LogField("SPOOL", spool.directory)]) }
        } catch {
            log.error("telemetry spool unavailable; audit events go to the journal only: \(error)", [LogField("STATE_DIR", config.stateDirectory)])
        }
        let socket: ListeningSocket
        do {
            socket = try ListeningSocket.open(path: config.socketPath, mode: config.socketMode)
        } catch {
            log.error("cannot listen: \(error)", [LogField("SOCKET", config.socketPath)])
            return AgentExit.failure
        }
        defer { socket.close() }

        let serverBox = Mutex<HTTPServer?>(nil)
        let connections: @Sendable () -> Int = { serverBox.withLock { $0?.openConnections ?? 0 } }
        let metrics = AgentMetrics(openConnections: connections)
        let serving = ServingMetrics(registry: metrics.registry)
        let (store, bundles) = AgentStore.open(config: config, logger: logger)
        self.store = store
        let manager = ModelManager(metrics: serving, logger: logger, bundles: bundles)
        let models = manager.registry
        notifier.status("Loading models")
        manager.sync(AgentStore.wanted(config, store: store), clientGroup: config.clientGroup, memoryBudgetMiB: config.memoryBudgetMiB)
        let state = RuntimeState(socketPath: socket.path, stateDirectory: config.stateDirectory, startedAt: metrics.startTime,
                                 models: models, connections: connections)
        let debug = ProcessStats.environment(DebugRoutes.environmentVariable) == "1"
        let limiter = RateLimiter(perMinute: config.requestsPerMinute, burst: config.requestBurst)
        var missingAdmins: [String] = []
        let admin = AccessPolicy(users: [], groups: [config.adminGroup], missing: &missingAdmins)
        for name in missingAdmins { log.warning("access.admin_group: \(name) does not exist on this system; only root may use /v1/admin") }
        let actions = AdminActions(
            reload: { [self] writer in reload(metrics: metrics, manager: manager, writer: writer) },
            unload: { name, writer in
                manager.unload(name) { unloaded in
                    writer.respond(unloaded ? .json(.ok, "{\"unloaded\":\(JSONText.quote(name))}")
                                            : .error(.notFound, "model '\(name)' is not loaded", code: "model_not_found"))
                }
            })
        let shared = sharedConfig
        let bundleAdmin = store.map { store in
            BundleAdmin(store: store, logger: logger, config: { shared.get() },
                        refresh: { done in
                            let config = shared.get()
                            manager.syncInBackground(AgentStore.wanted(config, store: store), clientGroup: config.clientGroup,
                                                     memoryBudgetMiB: config.memoryBudgetMiB) { _ in done() }
                        },
                        operations: metrics.storeOperations)
        }
        let sync = AgentSync.make(config: config, store: store, admin: bundleAdmin, shared: sharedConfig, logger: logger, metrics: metrics)
        let exporter = AgentTelemetry.make(config: config, spool: spool, logger: logger, metrics: metrics)
        let router = APIRoutes.make(state: state, metrics: metrics, serving: serving, debugRoutes: debug, models: manager, limiter: limiter,
                                    admin: admin, actions: actions, logger: logger, store: bundleAdmin,
                                    storeClosedReason: (bundles as? UnavailableBundles)?.reason ?? "", sync: sync, spool: spool,
                                    exporter: exporter)
        let server: HTTPServer
        do {
            server = try HTTPServer(listener: socket.descriptor, configuration: httpConfiguration(config),
                                    handler: Self.observed(router: router, metrics: metrics, logger: logger))
        } catch {
            log.error("cannot start the HTTP server: \(error)")
            return AgentExit.failure
        }
        serverBox.withLock { $0 = server }
        if store != nil {
            let uploads = config.stateDirectory + "/uploads"
            do {
                try FileSystem.makeDirectory(uploads, mode: 0o700, existingIsFine: true)
                for name in try FileSystem.listDirectory(uploads) where name.hasSuffix(".partial") { try? FileSystem.remove(uploads + "/" + name) }
                let shared = sharedConfig
                server.uploads = UploadPolicy(paths: [StoreRoutes.uploadPath], directory: uploads, maxBytes: 1 << 40, timeoutSeconds: 6 * 3600,
                                              allowed: { admin.allows($0) },
                                              fits: { length in
                    // The upload and the model's encrypted copy both need room, with the configured margin left.
                    let margin = Int64(shared.get().minFreeMiB) << 20
                    guard let free = FileSystem.availableBytes(uploads), free - 2 * Int64(length) < margin else { return nil }
                    return "not enough space for a \(length >> 20) MiB bundle: \(free >> 20) MiB free, \(2 * (length >> 20)) MiB needed "
                        + "(the upload and the stored copy) and \(margin >> 20) MiB to stay free ([store] min_free_mb)"
                })
            } catch {
                log.error("bundle uploads are off: \(error)", [LogField("STATE_DIR", config.stateDirectory)])
            }
        }
        server.onProtocolError = { status in metrics.protocolErrors.labels(String(status.code)).inc() }
        let watchdog = WatchdogFeeder(notifier: notifier)
        server.tickInterval = watchdog.tickInterval
        let spool = self.spool
        server.onTick = {
            watchdog.feedIfDue()
            // Group commit of what was spooled since the last tick (audit events are already durable).
            try? spool?.commit()
        }
        do {
            try server.watch(signals.descriptor) { [self] in
                while let signal = signals.next() {
                    handle(signal: signal, server: server, state: state, metrics: metrics, manager: manager)
                }
            }
        } catch {
            log.error("cannot watch signals: \(error)")
            return AgentExit.failure
        }

        let how = socket.activated ? "socket-activated" : "listening"
        log.notice("outpostd \(BuildInfo.version) \(how) on \(socket.path)",
                   [LogField("SOCKET", socket.path), LogField("PID", String(ProcessStats.pid))])
        notifier.ready(status: "Serving on \(socket.path)")
        watchdog.feedIfDue()
        // Sync starts once serving does: it never delays the first request.
        sync?.start()
        exporter?.start()
        defer {
            sync?.stop()
            exporter?.stop()
        }
        server.run()
        log.notice("stopped", [LogField("OPEN_CONNECTIONS", String(server.openConnections))])
        return AgentExit.success
    }

    private func handle(signal: Int32, server: HTTPServer, state: RuntimeState, metrics: AgentMetrics, manager: ModelManager) {
        switch signal {
        case Signals.hangup:
            reload(metrics: metrics, manager: manager, writer: nil)
        default:
            guard !state.isDraining else {
                log.notice("second stop signal; still draining until the deadline")
                return
            }
            state.startDraining()
            notifier.stopping(status: "Draining \(server.openConnections) connection(s)")
            log.notice("stopping: draining requests in flight",
                       [LogField("DEADLINE_SECONDS", String(config.shutdownTimeout))])
            server.beginShutdown(deadline: config.shutdownTimeout)
        }
    }

    /// Reads the configuration again and brings the models in line with it (off the serving loop); a bad file keeps
    /// the running configuration. `writer` (from /v1/admin/reload) gets the outcome once the models are done.
    private func reload(metrics: AgentMetrics, manager: ModelManager, writer: ResponseWriter?) {
        notifier.reloading()
        do {
            let fresh = try options.loadConfig()
            let restartNeeded = Self.keysNeedingRestart(old: config, new: fresh)
            config = fresh
            logger.replace(LogSetup.makeLogger(level: fresh.logLevel, format: fresh.logFormat, identifier: "outpostd", spool: spool))
            metrics.reloads.labels("ok").inc()
            if restartNeeded.isEmpty {
                log.notice("configuration reloaded", [LogField("CONFIG", options.configPath)])
            } else {
                log.warning("configuration reloaded; changes to \(restartNeeded.joined(separator: ", ")) take effect after a restart",
                            [LogField("CONFIG", options.configPath)])
            }
            let socketPath = config.socketPath
            let models = manager.registry
            manager.syncInBackground(AgentStore.wanted(fresh, store: store), clientGroup: fresh.clientGroup,
                                     memoryBudgetMiB: fresh.memoryBudgetMiB) { [self] changes in
                notifier.ready(status: "Serving on \(socketPath)")
                let list = changes.map(JSONText.quote).joined(separator: ",")
                writer?.respond(.json(.ok, "{\"status\":\"reloaded\",\"changes\":[\(list)],\"models\":[\(models.names.map(JSONText.quote).joined(separator: ","))]}"))
            }
        } catch {
            metrics.reloads.labels("failed").inc()
            log.error("reload failed, keeping the running configuration: \(error)", [LogField("CONFIG", options.configPath)])
            notifier.ready(status: "Serving on \(config.socketPath) (last reload failed: \(error))")
            writer?.respond(.error(.badRequest, "reload failed, keeping the running configuration: \(error)", code: "reload_failed"))
        }
    }

    static func keysNeedingRestart(old: Config, new: Config) -> [String] {
        var keys: [String] = []
        if old.socketPath != new.socketPath { keys.append("server.socket") }
        if old.socketMode != new.socketMode { keys.append("server.socket_mode") }
        if old.stateDirectory != new.stateDirectory { keys.append("agent.state_dir") }
        if old.maxConnections != new.maxConnections { keys.append("server.max_connections") }
        if old.maxBodyBytes != new.maxBodyBytes { keys.append("server.max_body_bytes") }
        if old.headerTimeout != new.headerTimeout { keys.append("server.header_timeout_seconds") }
        if old.idleTimeout != new.idleTimeout { keys.append("server.idle_timeout_seconds") }
        return keys
    }

    private func httpConfiguration(_ config: Config) -> HTTPServerConfiguration {
        HTTPServerConfiguration(limits: HTTPLimits(maxBodyBytes: config.maxBodyBytes), maxConnections: config.maxConnections,
                                requestTimeout: config.headerTimeout, idleTimeout: config.idleTimeout)
    }

    /// Routes a request and records its route, status and latency when the response is complete.
    static func observed(router: Router, metrics: AgentMetrics, logger: LoggerBox) -> HTTPHandler {
        { request, writer in
            let started = Clock.monotonicNanoseconds()
            let matched = router.match(request)
            let route: String
            switch matched {
            case .found(let match): route = match.label
            case .methodNotAllowed: route = String(request.path)
            case .notFound: route = "unmatched"
            }
            let method = request.method
            let pid = request.peer.map { String($0.pid) } ?? "-"
            let path = String(request.path)
            writer.onFinish { status in
                let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
                metrics.observe(route: route, method: method, status: status, seconds: seconds)
                let log = logger.current
                if log.isEnabled(.debug) {
                    log.debug("\(method.rawValue) \(path) \(status)",
                              [LogField("REQUEST_PATH", path), LogField("STATUS", String(status)), LogField("PEER_PID", pid)])
                }
            }
            router.handle(matched, request, writer)
        }
    }
}

/// The configuration in force, readable from any thread.
final class SharedConfig: Sendable {
    private let value: Mutex<Config>
    init(_ config: Config) { value = Mutex(config) }
    func get() -> Config { value.withLock { $0 } }
    func set(_ config: Config) { value.withLock { $0 = config } }
}
