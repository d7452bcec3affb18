// Loading and unloading models while the agent serves: at start, on reload (SIGHUP, /v1/admin/reload), on
// first use of a model that is not preloaded, on /v1/admin/unload, and after a model's keep-alive without
// requests. Every change runs on one queue, off the serving loop; a memory budget covers all loaded models.
import Config
import Dispatch
import Platform
import Synchronization
import Telemetry

public final class ModelManager: @unchecked Sendable {
    public let registry = ModelRegistry()
    private let metrics: ServingMetrics
    private let logger: LoggerBox
    private let queue = DispatchQueue(label: "outpost.models")
    /// Queue-confined: the configured models, their fallback group and the budget.
    private var configured: [ModelConfig] = []
    private var clientGroup = "outpost"
    private var budgetBytes = 0
    private var sweeping = false
    /// Bytes of models that left the registry but still finish their requests (they count against the budget).
    private let drainingBytes = Atomic<Int>(0)

    /// Where `bundle = "NAME"` models come from.
    private let bundles: any BundleSource

    public init(metrics: ServingMetrics, logger: LoggerBox, bundles: any BundleSource = UnavailableBundles(reason: "no store is open")) {
        self.metrics = metrics
        self.logger = logger
        self.bundles = bundles
    }

    private var log: Logger { logger.current }

    /// The budget for `memoryBudgetMiB` (0: 90% of physical memory).
    public static func budget(memoryBudgetMiB: Int) -> Int {
        memoryBudgetMiB > 0 ? memoryBudgetMiB << 20 : SystemInfo.physicalMemory / 10 * 9
    }

    /// Brings the models in line with `wanted` and waits until done; returns one line per change.
    @discardableResult
    public func sync(_ wanted: [ModelConfig], clientGroup: String, memoryBudgetMiB: Int) -> [String] {
        queue.sync { apply(wanted, clientGroup: clientGroup, budget: Self.budget(memoryBudgetMiB: memoryBudgetMiB)) }
    }

    /// The same off the caller's thread; `done` gets the changes.
    public func syncInBackground(_ wanted: [ModelConfig], clientGroup: String, memoryBudgetMiB: Int, done: @escaping @Sendable ([String]) -> Void) {
        queue.async { [self] in done(apply(wanted, clientGroup: clientGroup, budget: Self.budget(memoryBudgetMiB: memoryBudgetMiB))) }
    }

    /// Calls `body` with the model `name`: at once when it is loaded, after loading it when it is configured
    /// without preload (or was unloaded after its keep-alive), with an error when it cannot be served.
    public func withModel(_ name: String, _ body: @escaping @Sendable (Result<ServedModel, ModelUnavailable>) -> Void) {
        if let model = registry.get(name) {
            model.touch()
            body(.success(model))
            return
        }
        guard registry.isConfigured(name) else {
            body(.failure(.unknown))
            return
        }
        queue.async { [self] in
            if let model = registry.get(name) {
                model.touch()
                body(.success(model))
            } else if let config = configured.first(where: { $0.name == name }) {
                switch load(config, replacing: nil) {
                case .success(let model): body(.success(model))
                case .failure(let error): body(.failure(.notLoaded(error.message)))
                }
            } else {
                body(.failure(.unknown))
            }
        }
    }

    /// Drains and drops a loaded model; `done` gets whether it was loaded.
    public func unload(_ name: String, done: @escaping @Sendable (Bool) -> Void) {
        queue.async { [self] in
            guard let model = registry.remove(name) else { return done(false) }
            metrics.memoryBytes.labels(name).set(0)
            retire(model) { [self] in
                log.notice("model \(name) unloaded on request", [LogField("MODEL", name)])
                done(true)
            }
        }
    }

    // MARK: queue-confined

    private func apply(_ wanted: [ModelConfig], clientGroup: String, budget: Int) -> [String] {
        configured = wanted
        self.clientGroup = clientGroup
        budgetBytes = budget
        registry.configure(wanted.map(\.name))
        var changes: [String] = []
        let names = Set(wanted.map(\.name))
        for name in registry.names where !names.contains(name) {
            guard let old = registry.remove(name) else { continue }
            metrics.memoryBytes.labels(name).set(0)
            changes.append("unloaded \(name)")
            log.notice("model \(name) unloading: no longer configured; requests in flight finish first", [LogField("MODEL", name)])
            retire(old) { [self] in log.notice("model \(name) unloaded", [LogField("MODEL", name)]) }
        }
        for model in wanted {
            let current = registry.get(model.name)
            if let current, current.config == model, current.defaultGroup == clientGroup,
               model.bundle.map({ bundles.activeVersion($0) == current.version }) ?? true { continue }
            guard model.preload || current != nil else { continue }
            switch load(model, replacing: current) {
            case .success: changes.append("\(current == nil ? "loaded" : "reloaded") \(model.name)")
            case .failure(let error): changes.append("failed \(model.name): \(error.message)")
            }
        }
        scheduleSweep()
        return changes
    }

    /// Loads `config` (beside `replacing`, which then drains); a failure keeps `replacing` serving.
    private func load(_ config: ModelConfig, replacing old: ServedModel?) -> Result<ServedModel, ServingError> {
        var missing: [String] = []
        // The version it replaces and models still draining hold their memory until they are gone.
        let others = registry.all.filter { $0.config.name != config.name } + (old.map { [$0] } ?? [])
        let used = others.reduce(0) { $0 + $1.memoryBytes } + drainingBytes.load(ordering: .relaxed)
        let budget = budgetBytes
        let started = Clock.monotonicNanoseconds()
        do {
            let file: ModelFile
            var version: String?
            if let bundle = config.bundle {
                (file, version) = try bundles.openActive(bundle)
            } else {
                file = try ModelFile(path: config.path)
            }
            let served = try ServedModel(config: config, file: file, version: version, defaultGroup: clientGroup, threads: SystemInfo.cpuCount,
                                         metrics: metrics, missing: &missing) { (bytes: Int) throws(ServingError) in
                guard used + bytes <= budget else {
                    let loaded = others.map { "\($0.config.name) \(Self.mib($0.memoryBytes))" }.joined(separator: ", ")
                    throw ServingError("needs \(Self.mib(bytes)) but \(Self.mib(max(0, budget - used))) of the \(Self.mib(budget)) memory budget are free"
                                   + (loaded.isEmpty ? "" : " (loaded: \(loaded))") + "; raise agent.memory_budget_mb or unload a model")
                }
            }
            // Opening the file (for a bundle: decrypting it) counts as loading.
            let loadSeconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
            metrics.loadSeconds.labels(config.name).set(loadSeconds)
            registry.install(served)
            if let old { retire(old) {} }
            log.notice("model \(config.name) loaded\(version.map { " (bundle \(config.bundle!) \($0))" } ?? ""): \(served.info.architecture), context \(served.contextLength), \(config.parallel) parallel, \(Self.mib(served.memoryBytes)), \((loadSeconds * 1000).rounded()) ms",
                       [LogField("MODEL", config.name), LogField("MODEL_PATH", config.bundle.map { "bundle:\($0)" } ?? config.path)])
            for name in missing {
                log.warning("model \(config.name): \(name) named in its access list does not exist on this system", [LogField("MODEL", config.name)])
            }
            return .success(served)
        } catch {
            if old == nil { registry.setProblem(config.name, config.preload ? error.message : nil) }
            log.error("model \(config.name) not loaded: \(error)",
                      [LogField("MODEL", config.name), LogField("MODEL_PATH", config.bundle.map { "bundle:\($0)" } ?? config.path)])
            return .failure(error)
        }
    }

    /// Unloads models idle past their keep-alive; runs every second while any model has one.
    private func scheduleSweep() {
        guard !sweeping, configured.contains(where: { $0.keepAlive > 0 }) else { return }
        sweeping = true
        queue.asyncAfter(deadline: .now() + 1) { [self] in
            sweeping = false
            for model in registry.all where model.config.keepAlive > 0 && model.scheduler.load == 0
                && model.idleSeconds >= Double(model.config.keepAlive) {
                guard registry.remove(model.config.name) != nil else { continue }
                metrics.memoryBytes.labels(model.config.name).set(0)
                retire(model) {}
                log.notice("model \(model.config.name) unloaded after \(model.config.keepAlive) s without requests; it loads again on the next one",
                           [LogField("MODEL", model.config.name)])
            }
            scheduleSweep()
        }
    }

    /// Lets a model that left the registry finish its requests off this queue (so loads do not wait behind a
    /// long drain), its memory counted against the budget until then; `then` runs once it has stopped.
    private func retire(_ model: ServedModel, then: @escaping @Sendable () -> Void) {
        let bytes = model.memoryBytes
        drainingBytes.wrappingAdd(bytes, ordering: .relaxed)
        DispatchQueue.global().async { [self] in
            model.scheduler.stop()
            drainingBytes.wrappingSubtract(bytes, ordering: .relaxed)
            then()
        }
    }

    public static func mib(_ bytes: Int) -> String { "\((bytes + (1 << 19)) >> 20) MiB" }
}

/// Why a request's model cannot serve it.
public enum ModelUnavailable: Error {
    /// Not configured (404).
    case unknown
    /// Configured, but loading it failed (503).
    case notLoaded(String)
}
