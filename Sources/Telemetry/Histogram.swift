// Observations counted into fixed buckets, and the family of such histograms sharing a name and buckets.

public final class Histogram: Sendable {
    /// Finite upper bounds, strictly increasing; the implicit last bucket is +Inf.
    private let upperBounds: [Double]
    /// One slot per bound plus one for +Inf, each counting only its own bucket (cumulated when rendered).
    private let counts: AtomicCounts
    private let total = AtomicDouble(0)

    init(upperBounds: [Double]) {
        self.upperBounds = upperBounds
        counts = AtomicCounts(count: upperBounds.count + 1)
    }

    public func observe(_ value: Double) {
        // First bound >= value; NaN compares false everywhere and lands in +Inf, as in other clients.
        var low = 0
        var high = upperBounds.count
        while low < high {
            let mid = (low + high) / 2
            if value <= upperBounds[mid] { high = mid } else { low = mid + 1 }
        }
        counts.increment(low)
        total.add(value)
    }

    /// Number of observations.
    public var count: UInt64 {
        snapshot().cumulative.last ?? 0
    }

    /// Sum of all observed values.
    public var sum: Double {
        total.load()
    }

    /// Cumulative counts, one per finite bound then +Inf. The +Inf entry is the count by construction, so the
    /// two always agree; `sum` is read separately and may include an observation still being counted.
    func snapshot() -> (cumulative: [UInt64], sum: Double) {
        var cumulative: [UInt64] = []
        cumulative.reserveCapacity(counts.count)
        var running: UInt64 = 0
        for i in 0..<counts.count {
            running &+= counts.load(i)
            cumulative.append(running)
        }
        return (cumulative, total.load())
    }
}

public final class HistogramFamily: MetricFamily {
    public let name: String
    public let help: String
    public let labelNames: [String]
    /// Finite bucket upper bounds, strictly increasing (+Inf is implicit).
    public let buckets: [Double]
    let children: LabelledChildren<Histogram>

    var kind: MetricKind { .histogram }
    var sampleNames: [String] { [name + "_bucket", name + "_sum", name + "_count"] }

    init(name: String, help: String, labelNames: [String], buckets: [Double]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        self.buckets = buckets
        children = LabelledChildren(metricName: name, labelNames: labelNames) { Histogram(upperBounds: buckets) }
    }

    /// The child for these label values (one per label name, in order), created on first use.
    /// Takes a lock: resolve once and keep the `Histogram` on hot paths.
    public func labels(_ values: String...) -> Histogram {
        children.child(values)
    }

    /// Observes into the only child of an unlabelled family.
    public func observe(_ value: Double) {
        children.onlyChild().observe(value)
    }

    /// Observation count of the only child of an unlabelled family.
    public var count: UInt64 { children.onlyChild().count }

    /// Observation sum of the only child of an unlabelled family.
    public var sum: Double { children.onlyChild().sum }

    func render(into out: inout String) {
        PrometheusExposition.appendHeader(name: name, help: help, kind: kind, into: &out)
        let bounds = buckets.map(PrometheusExposition.format) + ["+Inf"]
        for (values, histogram) in children.sorted() {
            let (cumulative, sum) = histogram.snapshot()
            for (bound, count) in zip(bounds, cumulative) {
                PrometheusExposition.appendSample(
                    name: name + "_bucket", labelNames: labelNames, labelValues: values, extra: ("le", bound),
                    value: PrometheusExposition.format(count), into: &out)
            }
            PrometheusExposition.appendSample(
                name: name + "_sum", labelNames: labelNames, labelValues: values,
                value: PrometheusExposition.format(sum), into: &out)
            PrometheusExposition.appendSample(
                name: name + "_count", labelNames: labelNames, labelValues: values,
                value: PrometheusExposition.format(cumulative.last ?? 0), into: &out)
        }
    }

    /// Drops a trailing +Inf (it is always implied) and checks the rest; bad buckets are our bug.
    static func normalize(_ buckets: [Double], for name: String) -> [Double] {
        var bounds = buckets
        if bounds.last == .infinity { bounds.removeLast() }
        for (i, bound) in bounds.enumerated() {
            precondition(bound.isFinite, "histogram '\(name)' bucket \(bound) is not finite")
            if i > 0 {
                precondition(
                    bounds[i - 1] < bound, "histogram '\(name)' buckets must be strictly increasing: \(buckets)")
            }
        }
        return bounds
    }
}
