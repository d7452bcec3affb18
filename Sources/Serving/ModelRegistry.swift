// The models serving now, and why configured ones are not. Handlers read it on every request; loading,
// reloading (SIGHUP, /v1/admin/reload) and unloading change it while requests run.
import Synchronization

public final class ModelRegistry: Sendable {
    private struct State {
        var models: [String: ServedModel] = [:]
        var problems: [String: String] = [:]
        /// Every configured model, loaded or not.
        var configured: Set<String> = []
    }
    private let state = Mutex(State())

    public init() {}

    public func get(_ name: String) -> ServedModel? { state.withLock { $0.models[name] } }

    /// Serving models by name.
    public var all: [ServedModel] { state.withLock { $0.models.values.sorted { $0.config.name < $1.config.name } } }
    public var names: [String] { state.withLock { $0.models.keys.sorted() } }
    /// "model NAME: reason" for each configured model that is not serving.
    public var problems: [String] { state.withLock { s in s.problems.keys.sorted().map { "model \($0): \(s.problems[$0]!)" } } }

    /// Configured models, loaded or not (those not loaded load on first use).
    public var configuredNames: [String] { state.withLock { $0.configured.sorted() } }
    public func isConfigured(_ name: String) -> Bool { state.withLock { $0.configured.contains(name) } }
    public func configure(_ names: [String]) {
        state.withLock { s in
            s.configured = Set(names)
            s.problems = s.problems.filter { s.configured.contains($0.key) }
        }
    }

    /// Serves `model` under its name; returns the model it replaces.
    @discardableResult
    public func install(_ model: ServedModel) -> ServedModel? {
        state.withLock { s in
            s.problems.removeValue(forKey: model.config.name)
            return s.models.updateValue(model, forKey: model.config.name)
        }
    }

    /// Stops serving `name` (new requests get 404); returns the model so the caller can drain it.
    public func remove(_ name: String) -> ServedModel? {
        state.withLock { s in
            s.problems.removeValue(forKey: name)
            return s.models.removeValue(forKey: name)
        }
    }

    /// Records why `name` is not serving (nil clears it).
    public func setProblem(_ name: String, _ problem: String?) {
        state.withLock { $0.problems[name] = problem }
    }
}
