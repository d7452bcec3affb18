// Spooled metric snapshots as an OTLP/HTTP JSON ExportMetricsServiceRequest (opentelemetry-proto
// `opentelemetry/proto/collector/metrics/v1`, protobuf JSON mapping): counters as cumulative monotonic sums,
// gauges as gauges, histograms as cumulative explicit-bucket histograms; one ResourceMetrics per snapshot.
import FoundationEssentials
import JSON

public enum OTLPMetrics {
    struct NumberPoint: Encodable {
        let attributes: [OTLP.KeyValue]
        let startTimeUnixNano: String?
        let timeUnixNano: String
        let asDouble: Double
    }

    struct HistogramPoint: Encodable {
        let attributes: [OTLP.KeyValue]
        let startTimeUnixNano: String
        let timeUnixNano: String
        let count: String
        let sum: Double
        let bucketCounts: [String]
        let explicitBounds: [Double]
    }

    struct Sum: Encodable {
        let aggregationTemporality = 2  // cumulative
        let isMonotonic = true
        let dataPoints: [NumberPoint]
    }

    struct Gauge: Encodable {
        let dataPoints: [NumberPoint]
    }

    struct Histogram: Encodable {
        let aggregationTemporality = 2
        let dataPoints: [HistogramPoint]
    }

    struct Metric: Encodable {
        let name: String
        let description: String
        let sum: Sum?
        let gauge: Gauge?
        let histogram: Histogram?
    }

    struct ScopeMetrics: Encodable {
        let scope: OTLP.Scope
        let metrics: [Metric]
    }

    struct ResourceMetrics: Encodable {
        let resource: OTLP.Resource
        let scopeMetrics: [ScopeMetrics]
    }

    struct Request: Encodable {
        let resourceMetrics: [ResourceMetrics]
    }

    static func nanos(_ seconds: Double) -> String { String(Int64((seconds * 1e9).rounded())) }

    /// JSON has no NaN or infinity; such a value (a gauge nobody set) goes as 0 rather than spoil the request.
    static func finite(_ value: Double?) -> Double { value.flatMap { $0.isFinite ? $0 : nil } ?? 0 }

    static func attributes(_ labels: [String: String]) -> [OTLP.KeyValue] {
        labels.keys.sorted().map { OTLP.KeyValue($0, labels[$0]!) }
    }

    /// The request body for the metric records among `records`, or nil when there is none.
    public static func request(_ records: [SpoolRecord], resource: [(String, String)], version: String) -> [UInt8]? {
        var resources: [ResourceMetrics] = []
        let decoder = JSONDecoder()
        for record in records where record.kind == .metrics {
            guard let snapshot = try? decoder.decode(MetricsRecord.self, from: Data(record.payload)) else { continue }
            let time = nanos(snapshot.time)
            let start = nanos(snapshot.start)
            let metrics: [Metric] = snapshot.metrics.compactMap { family in
                guard !family.series.isEmpty else { return nil }
                switch family.kind {
                case .counter:
                    return Metric(name: family.name, description: family.help, sum: Sum(dataPoints: family.series.map {
                        NumberPoint(attributes: attributes($0.labels), startTimeUnixNano: start, timeUnixNano: time, asDouble: finite($0.value))
                    }), gauge: nil, histogram: nil)
                case .gauge:
                    return Metric(name: family.name, description: family.help, sum: nil, gauge: Gauge(dataPoints: family.series.map {
                        NumberPoint(attributes: attributes($0.labels), startTimeUnixNano: nil, timeUnixNano: time, asDouble: finite($0.value))
                    }), histogram: nil)
                case .histogram:
                    return Metric(name: family.name, description: family.help, sum: nil, gauge: nil, histogram: Histogram(dataPoints: family.series.map {
                        HistogramPoint(attributes: attributes($0.labels), startTimeUnixNano: start, timeUnixNano: time, count: String($0.count ?? 0),
                                       sum: finite($0.sum), bucketCounts: ($0.bucketCounts ?? []).map(String.init), explicitBounds: family.bounds ?? [])
                    }))
                }
            }
            resources.append(ResourceMetrics(
                resource: OTLP.resource(resource, extra: [OTLP.KeyValue("outpost.sequence", String(record.sequence))]),
                scopeMetrics: [ScopeMetrics(scope: OTLP.Scope(name: "outpost", version: version), metrics: metrics)]))
        }
        guard !resources.isEmpty else { return nil }
        return Array(JSONWriter.encode(Request(resourceMetrics: resources)).utf8)
    }
}
