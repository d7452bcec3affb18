// What the registry needs from every family: identity for re-registration checks, and a way to render itself.

enum MetricKind: String, Sendable {
    case counter, gauge, histogram
}

protocol MetricFamily: AnyObject, Sendable {
    var name: String { get }
    var help: String { get }
    var kind: MetricKind { get }
    var labelNames: [String] { get }
    /// Every series name this family writes (a histogram writes three), so the registry can refuse clashes.
    var sampleNames: [String] { get }
    /// Appends HELP, TYPE and all samples in Prometheus text format 0.0.4.
    func render(into out: inout String)
    /// The family's current values.
    func snapshot() -> MetricSnapshot
}
