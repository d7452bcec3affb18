// The registry's values at one moment, for the spool and the OTLP exporter (the scrape has its own rendering).

public struct MetricSnapshot: Sendable, Codable, Equatable {
    public enum Kind: String, Sendable, Codable {
        case counter, gauge, histogram
    }

    public struct Series: Sendable, Codable, Equatable {
        public var labels: [String: String]
        /// Counters and gauges.
        public var value: Double?
        /// Histograms: the count in each bucket (not cumulative), the last one above every bound.
        public var bucketCounts: [UInt64]?
        public var sum: Double?
        public var count: UInt64?

        public init(labels: [String: String], value: Double? = nil, bucketCounts: [UInt64]? = nil, sum: Double? = nil, count: UInt64? = nil) {
            self.labels = labels
            self.value = value
            self.bucketCounts = bucketCounts
            self.sum = sum
            self.count = count
        }
    }

    public var name: String
    public var help: String
    public var kind: Kind
    /// Histograms: the buckets' upper bounds (+Inf implied).
    public var bounds: [Double]?
    public var series: [Series]
}

/// One spooled snapshot of the whole registry.
public struct MetricsRecord: Sendable, Codable, Equatable {
    /// Seconds since the epoch when it was taken, and when the counters started (the process's start).
    public var time: Double
    public var start: Double
    public var metrics: [MetricSnapshot]

    public init(time: Double, start: Double, metrics: [MetricSnapshot]) {
        self.time = time
        self.start = start
        self.metrics = metrics
    }
}

extension MetricsRegistry {
    /// Every family's current values.
    public func snapshot() -> [MetricSnapshot] {
        families().map { $0.snapshot() }
    }
}

func labelDictionary(_ names: [String], _ values: [String]) -> [String: String] {
    Dictionary(zip(names, values).map { ($0, $1) }, uniquingKeysWith: { $1 })
}

extension CounterFamily {
    func snapshot() -> MetricSnapshot {
        MetricSnapshot(name: name, help: help, kind: .counter, bounds: nil,
                       series: children.sorted().map { values, counter in
                           MetricSnapshot.Series(labels: labelDictionary(labelNames, values), value: counter.value)
                       })
    }
}

extension GaugeFamily {
    func snapshot() -> MetricSnapshot {
        MetricSnapshot(name: name, help: help, kind: .gauge, bounds: nil,
                       series: children.sorted().map { values, gauge in
                           MetricSnapshot.Series(labels: labelDictionary(labelNames, values), value: gauge.value)
                       })
    }
}

extension SampledGaugeFamily {
    func snapshot() -> MetricSnapshot {
        MetricSnapshot(name: name, help: help, kind: .gauge, bounds: nil,
                       series: [MetricSnapshot.Series(labels: [:], value: sample())])
    }
}

extension HistogramFamily {
    func snapshot() -> MetricSnapshot {
        MetricSnapshot(name: name, help: help, kind: .histogram, bounds: buckets,
                       series: children.sorted().map { values, histogram in
                           let (cumulative, sum) = histogram.snapshot()
                           var counts: [UInt64] = []
                           var previous: UInt64 = 0
                           for total in cumulative {
                               counts.append(total - previous)
                               previous = total
                           }
                           return MetricSnapshot.Series(labels: labelDictionary(labelNames, values), bucketCounts: counts, sum: sum,
                                                        count: cumulative.last ?? 0)
                       })
    }
}
