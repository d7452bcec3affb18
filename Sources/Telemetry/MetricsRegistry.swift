// The set of metric families one process exposes, and their rendering for a scrape.
import Synchronization

public final class MetricsRegistry: Sendable {
    private struct State {
        /// Families in registration order, which is the exposition order.
        var families: [any MetricFamily] = []
        var byName: [String: Int] = [:]
        /// Every series name in use (histograms use three), so `x_count` cannot shadow histogram `x`.
        var sampleNames: Set<String> = []
    }

    private let state = Mutex(State())

    public init() {}

    /// Registers a counter family, or returns the one already registered under this name with these labels.
    public func counter(_ name: String, help: String, labelNames: [String] = []) -> CounterFamily {
        register(name: name, labelNames: labelNames) {
            CounterFamily(name: name, help: help, labelNames: labelNames)
        } matches: { (existing: CounterFamily) in
            existing.labelNames == labelNames
        }
    }

    /// Registers a gauge family, or returns the one already registered under this name with these labels.
    public func gauge(_ name: String, help: String, labelNames: [String] = []) -> GaugeFamily {
        register(name: name, labelNames: labelNames) {
            GaugeFamily(name: name, help: help, labelNames: labelNames)
        } matches: { (existing: GaugeFamily) in
            existing.labelNames == labelNames
        }
    }

    /// Registers a histogram family, or returns the one already registered under this name with these labels
    /// and buckets. A trailing +Inf bucket is accepted and implied either way.
    public func histogram(_ name: String, help: String, labelNames: [String] = [], buckets: [Double])
        -> HistogramFamily
    {
        precondition(!labelNames.contains("le"), "histogram '\(name)' cannot use the label name 'le'")
        let bounds = HistogramFamily.normalize(buckets, for: name)
        return register(name: name, labelNames: labelNames) {
            HistogramFamily(name: name, help: help, labelNames: labelNames, buckets: bounds)
        } matches: { (existing: HistogramFamily) in
            existing.labelNames == labelNames && existing.buckets == bounds
        }
    }

    /// Registers a gauge whose value `sample` computes at each scrape. `sample` runs outside the registry's
    /// lock and may be called from any thread. A closure cannot be compared, so registering a name twice here
    /// is a programmer error.
    public func gauge(_ name: String, help: String, sample: @escaping @Sendable () -> Double) {
        let _: SampledGaugeFamily = register(name: name, labelNames: []) {
            SampledGaugeFamily(name: name, help: help, sample: sample)
        } matches: { (_: SampledGaugeFamily) in
            false
        }
    }

    /// The families, in registration order (read outside the lock: sampled gauges run arbitrary code).
    func families() -> [any MetricFamily] { state.withLock { $0.families } }

    /// All families in Prometheus text format 0.0.4 (`text/plain; version=0.0.4`), ending with a newline.
    public func exposition() -> String {
        // Render outside the lock: sampled gauges run arbitrary code, which may itself register metrics.
        let families = state.withLock { $0.families }
        var out = ""
        for family in families {
            family.render(into: &out)
        }
        return out
    }

    /// Same name, same type and same shape returns the existing family (first help text wins); anything else
    /// under a taken name is our bug.
    private func register<Family: MetricFamily>(
        name: String, labelNames: [String], make: () -> Family, matches: (Family) -> Bool
    ) -> Family {
        MetricNames.checkFamily(name: name, labelNames: labelNames)
        return state.withLock { state in
            if let index = state.byName[name] {
                let existing = state.families[index]
                guard let same = existing as? Family, matches(same) else {
                    preconditionFailure(
                        "metric '\(name)' is already registered as a \(existing.kind.rawValue) with labels "
                            + "\(existing.labelNames); cannot register it again as \(Family.self) with \(labelNames)")
                }
                return same
            }
            let family = make()
            for sample in family.sampleNames {
                precondition(!state.sampleNames.contains(sample), "series '\(sample)' of '\(name)' is already in use")
            }
            state.sampleNames.formUnion(family.sampleNames)
            state.byName[name] = state.families.count
            state.families.append(family)
            return family
        }
    }
}
