import Telemetry
import XCTest

final class CounterTests: XCTestCase {
    func testUnlabelledCounterExposition() {
        let registry = MetricsRegistry()
        let requests = registry.counter("outpost_requests_total", help: "Requests answered.")
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP outpost_requests_total Requests answered.
            # TYPE outpost_requests_total counter
            outpost_requests_total 0

            """)
        requests.inc()
        requests.inc(2)
        XCTAssertEqual(requests.value, 3)
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP outpost_requests_total Requests answered.
            # TYPE outpost_requests_total counter
            outpost_requests_total 3

            """)
    }

    func testLabelledCounterChildrenSortedByLabelValues() {
        let registry = MetricsRegistry()
        let requests = registry.counter("http_requests_total", help: "Requests.", labelNames: ["route", "code"])
        requests.labels("/v1/infer", "200").inc(by: 5)
        requests.labels("/v1/health", "200").inc()
        requests.labels("/v1/infer", "500").inc()
        requests.labels("/v1/infer", "200").inc()
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP http_requests_total Requests.
            # TYPE http_requests_total counter
            http_requests_total{route="/v1/health",code="200"} 1
            http_requests_total{route="/v1/infer",code="200"} 6
            http_requests_total{route="/v1/infer",code="500"} 1

            """)
    }

    func testLabelledFamilyWithoutChildrenShowsOnlyHeader() {
        let registry = MetricsRegistry()
        _ = registry.counter("errors_total", help: "Errors.", labelNames: ["kind"])
        XCTAssertEqual(registry.exposition(), "# HELP errors_total Errors.\n# TYPE errors_total counter\n")
    }

    func testSameLabelValuesReturnSameChild() {
        let registry = MetricsRegistry()
        let family = registry.counter("c_total", help: "C.", labelNames: ["a"])
        XCTAssertTrue(family.labels("x") === family.labels("x"))
        XCTAssertFalse(family.labels("x") === family.labels("y"))
    }

    func testFractionalAndWholeIncrementsAddUp() {
        let registry = MetricsRegistry()
        let cpu = registry.counter("cpu_seconds_total", help: "CPU time.")
        cpu.inc(0.25)
        cpu.inc(2)
        cpu.inc(0.5)
        XCTAssertEqual(cpu.value, 2.75)
        XCTAssertTrue(registry.exposition().hasSuffix("cpu_seconds_total 2.75\n"))
    }

    func testEightThreadsOfIncrementsAreExact() {
        let registry = MetricsRegistry()
        let family = registry.counter("hits_total", help: "Hits.", labelNames: ["worker"])
        let shared = family.labels("all")
        let unlabelled = registry.counter("plain_total", help: "Plain.")
        onThreads(8) { index in
            let own = family.labels("w\(index)")
            for _ in 0..<100_000 {
                shared.inc()
                own.inc()
                unlabelled.inc()
            }
        }
        XCTAssertEqual(shared.value, 800_000)
        XCTAssertEqual(unlabelled.value, 800_000)
        for index in 0..<8 {
            XCTAssertEqual(family.labels("w\(index)").value, 100_000)
        }
        XCTAssertTrue(registry.exposition().contains("hits_total{worker=\"all\"} 800000\n"))
    }

    func testConcurrentFractionalIncrementsAreExact() {
        // 0.5 is exact in binary, so every interleaving of the compare-and-swap loop must sum to the same value.
        let registry = MetricsRegistry()
        let counter = registry.counter("half_total", help: "Halves.")
        onThreads(8) { _ in
            for _ in 0..<20_000 { counter.inc(0.5) }
        }
        XCTAssertEqual(counter.value, 80_000)
    }
}
