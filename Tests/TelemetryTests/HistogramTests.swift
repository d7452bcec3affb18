import Telemetry
import XCTest

final class HistogramTests: XCTestCase {
    func testBucketsAreCumulativeAndInfEqualsCount() {
        let registry = MetricsRegistry()
        let latency = registry.histogram("latency_seconds", help: "Latency.", buckets: [0.005, 0.1, 1])
        for value in [0.001, 0.005, 0.05, 0.2, 0.7, 3.0] {
            latency.observe(value)
        }
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP latency_seconds Latency.
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.005"} 2
            latency_seconds_bucket{le="0.1"} 3
            latency_seconds_bucket{le="1"} 5
            latency_seconds_bucket{le="+Inf"} 6
            latency_seconds_sum 3.956
            latency_seconds_count 6

            """)
    }

    func testLabelledHistogramPutsLeLast() {
        let registry = MetricsRegistry()
        let family = registry.histogram(
            "tokens", help: "Tokens per request.", labelNames: ["model"], buckets: [10, 100, .infinity])
        family.labels("b").observe(500)
        family.labels("a").observe(10)
        family.labels("a").observe(11)
        XCTAssertEqual(family.buckets, [10, 100])
        XCTAssertEqual(family.labels("a").count, 2)
        XCTAssertEqual(family.labels("a").sum, 21)
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP tokens Tokens per request.
            # TYPE tokens histogram
            tokens_bucket{model="a",le="10"} 1
            tokens_bucket{model="a",le="100"} 2
            tokens_bucket{model="a",le="+Inf"} 2
            tokens_sum{model="a"} 21
            tokens_count{model="a"} 2
            tokens_bucket{model="b",le="10"} 0
            tokens_bucket{model="b",le="100"} 0
            tokens_bucket{model="b",le="+Inf"} 1
            tokens_sum{model="b"} 500
            tokens_count{model="b"} 1

            """)
    }

    func testEmptyHistogramExposesZeroes() {
        let registry = MetricsRegistry()
        _ = registry.histogram("h", help: "H.", buckets: [1])
        XCTAssertEqual(
            registry.exposition(),
            "# HELP h H.\n# TYPE h histogram\nh_bucket{le=\"1\"} 0\nh_bucket{le=\"+Inf\"} 0\nh_sum 0\nh_count 0\n")
    }

    func testNaNAndHugeObservationsLandInInf() {
        let registry = MetricsRegistry()
        let h = registry.histogram("h", help: "H.", buckets: [1, 2])
        h.observe(.infinity)
        h.observe(5)
        let text = registry.exposition()
        XCTAssertTrue(text.contains("h_bucket{le=\"2\"} 0\n"))
        XCTAssertTrue(text.contains("h_bucket{le=\"+Inf\"} 2\n"))
        XCTAssertTrue(text.contains("h_sum +Inf\n"))
    }

    func testConcurrentObservationsKeepInfEqualToCount() {
        let registry = MetricsRegistry()
        let h = registry.histogram("work_seconds", help: "Work.", buckets: Buckets.latencySeconds)
        onThreads(8) { index in
            for i in 0..<50_000 {
                h.observe(Double((i + index) % 40) * 0.25)
            }
        }
        XCTAssertEqual(h.count, 400_000)
        // Every value is a multiple of 0.25 below 10, so the sum is exact in binary.
        XCTAssertEqual(h.sum, 8 * 50_000 * (Double(39 * 40 / 2) * 0.25) / 40)
        let text = registry.exposition()
        XCTAssertTrue(text.contains("work_seconds_bucket{le=\"+Inf\"} 400000\n"))
        XCTAssertTrue(text.contains("work_seconds_count 400000\n"))
        // Values 0 fall in every bucket; le=0.25 adds the 0.25s: two of every forty values.
        XCTAssertTrue(text.contains("work_seconds_bucket{le=\"0.25\"} 20000\n"))
    }

    func testBucketLayouts() {
        XCTAssertEqual(Buckets.latencySeconds.first, 0.0005)
        XCTAssertEqual(Buckets.latencySeconds.last, 30)
        XCTAssertTrue(zip(Buckets.latencySeconds, Buckets.latencySeconds.dropFirst()).allSatisfy { $0 < $1 })
        XCTAssertEqual(Buckets.exponential(start: 1, factor: 2, count: 5), [1, 2, 4, 8, 16])
        XCTAssertEqual(Buckets.exponential(start: 0.5, factor: 4, count: 1), [0.5])
    }

    func testLatencyBucketsRenderAsWritten() {
        let registry = MetricsRegistry()
        _ = registry.histogram("lat", help: "L.", buckets: Buckets.latencySeconds)
        let les = registry.exposition().split(separator: "\n").compactMap { line -> Substring? in
            guard let start = line.range(of: "le=\""), let end = line[start.upperBound...].firstIndex(of: "\"") else {
                return nil
            }
            return line[start.upperBound..<end]
        }
        XCTAssertEqual(
            les,
            ["0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
             "30", "+Inf"])
    }
}
