// The agent's side of registry sync: the [sync] settings and credentials turned into a registry client, and the
// store and its smoke-tested activation offered to the sync engine. Alerts are journal entries with ALERT=1.
import BuildInfo
import Bundles
import Config
import Net
import Platform
import Store
import Sync
import Telemetry

struct AgentSyncSite: SyncSite {
    let store: Store
    let admin: BundleAdmin
    let config: SharedConfig
    let logger: LoggerBox
    let actor: String

    func verifier() throws(BundleError) -> BundleVerifier { try AgentStore.verifier(config.get()) }
    func acceptedRelease(_ channel: String) -> Int64? { store.acceptedRelease(channel) }
    func acceptRelease(_ channel: String, _ number: Int64) throws { try store.acceptRelease(channel, number) }
    func activeVersion(_ name: String) -> SemanticVersion? { store.active(name)?.version }
    func isInstalled(_ name: String, _ version: SemanticVersion) -> Bool { store.record(name, version)?.status == .ready }

    func install(bundleAt path: String) throws {
        try admin.perform("install", actor: actor) { () throws(BundleAdmin.Failure) in
            try admin.install(path, allowDowngrade: true, actor: actor)
        }
    }

    func activate(_ name: String, _ version: SemanticVersion) throws {
        try admin.perform("activate", actor: actor) { () throws(BundleAdmin.Failure) in
            try admin.activate(model: name, version: version, actor: actor)
        }
    }

    func alert(_ message: String, reason: String) {
        logger.current.error("sync: \(message)", [LogField("AUDIT", "sync_refused"), LogField("ALERT", "1"), LogField("REASON", reason)])
    }
}

extension BundleAdmin.Failure: CustomStringConvertible {
    var description: String { message }
}

enum AgentSync {
    /// The sync engine for `[sync]`, or nil when sync is off (with why, when it is misconfigured).
    static func make(config: Config, store: Store?, admin: BundleAdmin?, shared: SharedConfig, logger: LoggerBox,
                     metrics: AgentMetrics) -> SyncEngine? {
        guard let registry = config.syncRegistry else { return nil }
        let log = logger.current
        guard let repository = config.syncRepository else {
            log.error("sync is off: [sync] registry is set but repository is not")
            return nil
        }
        guard let store, let admin else {
            log.error("sync is off: the model store is not open (it needs a key)")
            return nil
        }
        var credentials: (user: String, password: String)?
        let credentialPath = ProcessStats.environment("CREDENTIALS_DIRECTORY").map { $0 + "/outpost-registry.auth" }
        for path in [credentialPath, config.syncAuthFile].compactMap({ $0 }) {
            guard let text = try? ProcessStats.readSmallFile(path, limit: 4096) else { continue }
            let line = String(text.prefix { $0 != "\n" })
            guard let colon = line.firstIndex(of: ":") else {
                log.error("sync is off: \(path) must hold one user:password line")
                return nil
            }
            credentials = (String(line[..<colon]), String(line[line.index(after: colon)...]))
            break
        }
        var options = NetOptions()
        options.caFile = config.syncCAFile
        options.clientCertificate = config.syncClientCertificate
        options.clientKey = config.syncClientKey
        options.maxBytesPerSecond = Int64(config.syncMaxBytesPerSecond)
        options.userAgent = "outpost/\(BuildInfo.version)"
        let client: RegistryClient
        do {
            client = try RegistryClient(registry: registry, repository: repository, credentials: credentials, options: options,
                                        allowInsecure: config.syncAllowInsecure)
        } catch {
            log.error("sync is off: \(error)")
            return nil
        }
        let site = AgentSyncSite(store: store, admin: admin, config: shared, logger: logger,
                                 actor: "outpostd sync (\(registry)/\(repository), channel \(config.syncChannel))")
        let settings = SyncSettings(channel: config.syncChannel, intervalSeconds: Double(config.syncIntervalSeconds),
                                    stagingDirectory: config.stateDirectory + "/sync")
        log.notice("sync: following channel \(config.syncChannel) of \(registry)/\(repository) every \(config.syncIntervalSeconds) s",
                   [LogField("REGISTRY", registry), LogField("REPOSITORY", repository), LogField("CHANNEL", config.syncChannel)])
        return SyncEngine(client: client, site: site, settings: settings) { event, detail, amount in
            switch event {
            case "attempt":
                metrics.syncAttempts.labels(detail).inc()
                if detail == "ok" { metrics.syncLastSuccess.set(Clock.wallSeconds()) }
            case "bytes": metrics.syncBytes.inc(Double(amount))
            case "refused": metrics.syncRefused.labels(detail).inc()
            default: break
            }
        }
    }
}

enum AgentTelemetry {
    /// The exporter for `[telemetry] endpoint`, or nil (the spool keeps everything locally).
    static func make(config: Config, spool: Spool?, logger: LoggerBox, metrics: AgentMetrics) -> TelemetryExporter? {
        guard let endpoint = config.telemetryEndpoint else { return nil }
        guard let spool else {
            logger.current.error("telemetry export is off: the spool is not open")
            return nil
        }
        var options = NetOptions()
        options.caFile = config.telemetryCAFile
        options.clientCertificate = config.telemetryClientCertificate
        options.clientKey = config.telemetryClientKey
        options.userAgent = "outpost/\(BuildInfo.version)"
        let host = SystemInfo.hostName
        let resource = [("service.name", "outpostd"), ("service.version", BuildInfo.version), ("host.name", host),
                        ("outpost.site_id", config.siteID ?? host)]
        do {
            let exporter = try TelemetryExporter(spool: spool, endpoint: endpoint, options: options, allowInsecure: config.telemetryAllowInsecure,
                                                 resource: resource, version: BuildInfo.version,
                                                 intervalSeconds: Double(config.exportIntervalSeconds)) {
                MetricsRecord(time: Clock.wallSeconds(), start: metrics.startTime, metrics: metrics.registry.snapshot())
            }
            logger.current.notice("telemetry: exporting to \(endpoint) every \(config.exportIntervalSeconds) s", [LogField("ENDPOINT", endpoint)])
            return exporter
        } catch {
            logger.current.error("telemetry export is off: \(error)")
            return nil
        }
    }
}
