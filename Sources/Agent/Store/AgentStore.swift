// The agent's side of the model store: opening it with the key from the systemd credential or a key file,
// checking at start that every active version still verifies, and serving the active version of a bundle to the
// model manager. A version that fails to load is set aside and the previous good one takes over: serving never
// waits for a human.
import BuildInfo
import Bundles
import Config
import Platform
import Serving
import Store
import Telemetry

/// Bundles served from an open store.
struct StoreBundles: BundleSource {
    let store: Store
    let logger: LoggerBox

    func activeVersion(_ name: String) -> String? { store.active(name)?.version.description }

    func openActive(_ name: String) throws(ServingError) -> (file: ModelFile, version: String) {
        while true {
            guard let record = store.active(name) else {
                let installed = store.versions(of: name)
                throw ServingError(installed.isEmpty ? "bundle \(name) is not installed (outpost install BUNDLE)"
                                                     : "bundle \(name) has no active version (outpost activate \(name) VERSION)")
            }
            do throws(ServingError) {
                let mapping: MappedFile
                do {
                    mapping = try store.load(record, threads: SystemInfo.cpuCount)
                } catch {
                    throw ServingError("\(error)")
                }
                return (try ModelFile(mapping: mapping), record.version.description)
            } catch {
                try setAside(record, reason: "does not load: \(error.message)")
            }
        }
    }

    /// Marks `record` failed and activates the previous good version, with an alert; throws when there is none.
    func setAside(_ record: VersionRecord, reason: String) throws(ServingError) {
        let target = store.rollbackTarget(record.model)
        do {
            try store.markFailed(record.model, record.version, reason: reason)
            if let target { try store.activate(record.model, target.version, by: "outpostd (automatic rollback)", now: Int64(Clock.wallSeconds())) }
        } catch {
            throw ServingError("bundle \(record.model) \(record.version) \(reason); the store could not record it: \(error)")
        }
        logger.current.error("bundle \(record.model) \(record.version) \(reason); " + (target.map { "rolled back to \($0.version)" } ?? "no earlier good version to roll back to"),
                             [LogField("AUDIT", "bundle_rollback"), LogField("ALERT", "1"), LogField("MODEL", record.model),
                              LogField("VERSION", record.version.description), LogField("TO_VERSION", target?.version.description ?? "-")])
        if target == nil { throw ServingError("bundle \(record.model) \(record.version) \(reason); no earlier good version") }
    }
}

enum AgentStore {
    /// The store, or why there is none. A missing key is not an error until a model needs the store.
    static func open(config: Config, logger: LoggerBox) -> (store: Store?, bundles: any BundleSource) {
        let log = logger.current
        let credentials = ProcessStats.environment("CREDENTIALS_DIRECTORY")
        var keyPath = StoreKey.locate(keyFile: config.storeKeyFile, credentialsDirectory: credentials)
        if config.storeKeyFile == nil, let path = keyPath, (try? FileSystem.status(path)) == .some(nil) { keyPath = nil }
        guard let keyPath else {
            if config.models.contains(where: { $0.bundle != nil }) { log.error(StoreKey.howToProvide) }
            return (nil, UnavailableBundles(reason: StoreKey.howToProvide))
        }
        let store: Store
        do {
            store = try Store(stateDirectory: config.stateDirectory, key: try StoreKey.load(keyPath))
        } catch {
            log.error("the model store is closed: \(error)", [LogField("STORE_KEY", keyPath)])
            return (nil, UnavailableBundles(reason: "the store is closed: \(error.message)"))
        }
        let bundles = StoreBundles(store: store, logger: logger)
        recheck(store, bundles: bundles, config: config, log: log)
        let versions = store.versions()
        log.notice("store open: \(versions.count) installed version\(versions.count == 1 ? "" : "s") of \(Set(versions.map(\.model)).count) bundle(s)",
                   [LogField("STORE", store.directory)])
        return (store, bundles)
    }

    /// Verifies every active version's signed bundle.json against today's trusted keys and threshold; one that
    /// fails (a key withdrawn, an expiry passed) is set aside for the previous good version.
    static func recheck(_ store: Store, bundles: StoreBundles, config: Config, log: Logger) {
        // Nothing active, nothing to check (and no need for trusted keys yet).
        guard store.catalog.models.values.contains(where: { $0.active != nil }) else { return }
        let verifier: BundleVerifier
        do {
            verifier = try AgentStore.verifier(config)
        } catch {
            log.error("cannot check the installed bundles: \(error)")
            return
        }
        for model in store.catalog.models.keys.sorted() {
            while let record = store.active(model) {
                do throws(BundleError) {
                    _ = try verifier.verifySignatures(bundleJSON: record.bundleJSON, signatures: record.signatures)
                    break
                } catch {
                    do {
                        try bundles.setAside(record, reason: "no longer verifies (\(error))")
                    } catch {
                        break
                    }
                }
            }
        }
    }

    static func verifier(_ config: Config) throws(BundleError) -> BundleVerifier {
        BundleVerifier(trusted: try TrustedKeys.load(config.trustedDirectory), threshold: config.signaturesRequired,
                       now: Int64(Clock.wallSeconds()), agentVersion: SemanticVersion(BuildInfo.version)!)
    }

    /// The configured models plus, for each bundle with an active version that no `[models.NAME] bundle` names,
    /// a model of the bundle's own name (unless a configured model already has that name).
    static func wanted(_ config: Config, store: Store?) -> [ModelConfig] {
        guard let store else { return config.models }
        var models = config.models
        let named = Set(config.models.compactMap(\.bundle))
        let names = Set(config.models.map(\.name))
        for (bundle, entry) in store.catalog.models.sorted(by: { $0.key < $1.key })
        where entry.active != nil && !named.contains(bundle) && !names.contains(bundle) && ModelConfig.isValidName(bundle) {
            var model = ModelConfig(name: bundle, path: "")
            model.bundle = bundle
            models.append(model)
        }
        return models
    }
}
