// A monotonically increasing value, and the family of them sharing a name.
import Synchronization

public final class Counter: Sendable {
    // Whole-number increments (the common case: one request, one token) take a single atomic add;
    // fractional ones (seconds of CPU) go through a compare-and-swap loop. The value is their sum.
    private let whole = Atomic<UInt64>(0)
    private let fraction = AtomicDouble(0)

    init() {}

    /// Adds `by`, which must be non-negative: a counter that goes down is a gauge.
    public func inc(by: Double = 1) {
        precondition(by >= 0, "counter increment must be non-negative, got \(by)")
        if by == by.rounded(.towardZero) && by < 9_007_199_254_740_992 {
            whole.wrappingAdd(UInt64(by), ordering: .relaxed)
        } else {
            fraction.add(by)
        }
    }

    public var value: Double {
        Double(whole.load(ordering: .relaxed)) + fraction.load()
    }
}

public final class CounterFamily: MetricFamily {
    public let name: String
    public let help: String
    public let labelNames: [String]
    let children: LabelledChildren<Counter>

    var kind: MetricKind { .counter }
    var sampleNames: [String] { [name] }

    init(name: String, help: String, labelNames: [String]) {
        self.name = name
        self.help = help
        self.labelNames = labelNames
        children = LabelledChildren(metricName: name, labelNames: labelNames) { Counter() }
    }

    /// The child for these label values (one per label name, in order), created on first use.
    /// Takes a lock: resolve once and keep the `Counter` on hot paths.
    public func labels(_ values: String...) -> Counter {
        children.child(values)
    }

    /// Increments the only child of an unlabelled family.
    public func inc(_ by: Double = 1) {
        children.onlyChild().inc(by: by)
    }

    /// The value of the only child of an unlabelled family.
    public var value: Double {
        children.onlyChild().value
    }

    func render(into out: inout String) {
        PrometheusExposition.appendHeader(name: name, help: help, kind: kind, into: &out)
        for (values, counter) in children.sorted() {
            PrometheusExposition.appendSample(
                name: name, labelNames: labelNames, labelValues: values,
                value: PrometheusExposition.format(counter.value), into: &out)
        }
    }
}
