// A value that goes up and down, and the family of them sharing a name.

public final class Gauge: Sendable {
    private let current = AtomicDouble(0)

    init() {}

    public func set(_ value: Double) {
        current.store(value)
    }

    public func inc(by: Double = 1) {
        current.add(by)
    }

    public func dec(by: Double = 1) {
        current.add(-by)
    }

    public var value: Double {
        current.load()
    }
}

public final class GaugeFamily: MetricFamily {
    public let name: String
    public let help: String
    public let labelNames: [String]
    let children: LabelledChildren<Gauge>

    var kind: MetricKind { .gauge }
    var sampleNames: [String] { [name] }

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        children = LabelledChildren(metricName: name, labelNames: labelNames) { Gauge() }
    }

    /// The child for these label values (one per label name, in order), created on first use.
    /// Takes a lock: resolve once and keep the `Gauge` on hot paths.
    public func labels(_ values: String...) -> Gauge {
        children.child(values)
    }

    /// The only child of an unlabelled family.
    public func set(_ value: Double) { children.onlyChild().set(value) }
    public func inc(_ by: Double = 1) { children.onlyChild().inc(by: by) }
    public func dec(_ by: Double = 1) { children.onlyChild().dec(by: by) }
    public var value: Double { children.onlyChild().value }

    func render(into out: inout String) {
        PrometheusExposition.appendHeader(name: name, help: help, kind: kind, into: &out)
        for (values, gauge) in children.sorted() {
            PrometheusExposition.appendSample(
                name: name, labelNames: labelNames, labelValues: values,
                value: PrometheusExposition.format(gauge.value), into: &out)
        }
    }
}

/// A gauge read by calling a closure at scrape time (resident memory, open file descriptors).
final class SampledGaugeFamily: MetricFamily {
    let name: String
    let help: String
    let sample: @Sendable () -> Double

    var kind: MetricKind { .gauge }
    var labelNames: [String] { [] }
    var sampleNames: [String] { [name] }

    init(name: String, help: String, sample: @escaping @Sendable () -> Double) {
        self.name = name
        self.help = help
        self.sample = sample
    }

    func render(into out: inout String) {
        PrometheusExposition.appendHeader(name: name, help: help, kind: kind, into: &out)
        PrometheusExposition.appendSample(
            name: name, labelNames: [], labelValues: [], value: PrometheusExposition.format(sample()), into: &out)
    }
}
