// Bucket layouts for histograms.

public enum Buckets {
    /// Request latencies from half a millisecond to thirty seconds (a slow model load), in seconds.
    public static let latencySeconds: [Double] = [
        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
    ]

    /// `count` bounds: start, start×factor, start×factor², …
    public static func exponential(start: Double, factor: Double, count: Int) -> [Double] {
        precondition(start > 0 && start.isFinite, "exponential buckets need a positive start, got \(start)")
        precondition(factor > 1 && factor.isFinite, "exponential buckets need a factor above 1, got \(factor)")
        precondition(count >= 1, "exponential buckets need at least one bucket, got \(count)")
        var bounds: [Double] = []
        bounds.reserveCapacity(count)
        var bound = start
        for _ in 0..<count {
            bounds.append(bound)
            bound *= factor
        }
        return bounds
    }
}
