import Telemetry
import XCTest

final class RegistryTests: XCTestCase {
    func testReRegistrationReturnsTheSameFamily() {
        let registry = MetricsRegistry()
        let first = registry.counter("requests_total", help: "Requests.", labelNames: ["route"])
        let second = registry.counter("requests_total", help: "Other help is ignored.", labelNames: ["route"])
        XCTAssertTrue(first === second)
        first.labels("/a").inc()
        XCTAssertEqual(second.labels("/a").value, 1)

        let g1 = registry.gauge("temperature", help: "T.")
        XCTAssertTrue(g1 === registry.gauge("temperature", help: "T."))
        let h1 = registry.histogram("size_bytes", help: "S.", buckets: [1, 10])
        XCTAssertTrue(h1 === registry.histogram("size_bytes", help: "S.", buckets: [1, 10, .infinity]))

        // Registered once each: one HELP line per family.
        let helps = registry.exposition().split(separator: "\n").filter { $0.hasPrefix("# HELP") }
        XCTAssertEqual(helps.count, 3)
        XCTAssertTrue(registry.exposition().hasPrefix("# HELP requests_total Requests.\n"))
    }

    func testFamiliesAppearInRegistrationOrder() {
        let registry = MetricsRegistry()
        _ = registry.gauge("zeta", help: "Z.")
        _ = registry.counter("alpha_total", help: "A.")
        registry.gauge("mid", help: "M.") { 7 }
        let names = registry.exposition().split(separator: "\n").filter { $0.hasPrefix("# TYPE") }
        XCTAssertEqual(names, ["# TYPE zeta gauge", "# TYPE alpha_total counter", "# TYPE mid gauge"])
    }

    func testHelpAndLabelValuesAreEscaped() {
        let registry = MetricsRegistry()
        let family = registry.counter(
            "escapes_total", help: "Path like C:\\models\nsecond \"line\"", labelNames: ["path"])
        family.labels("a\\b \"quoted\"\nnext").inc()
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP escapes_total Path like C:\\\\models\\nsecond "line"
            # TYPE escapes_total counter
            escapes_total{path="a\\\\b \\"quoted\\"\\nnext"} 1

            """)
    }

    func testNamesWithColonsAndUnderscoresAreAccepted() {
        let registry = MetricsRegistry()
        _ = registry.counter("job:requests:rate5m", help: "Recorded.", labelNames: ["_private", "a1"])
        _ = registry.gauge("_leading", help: "Underscore.")
        XCTAssertTrue(registry.exposition().contains("# TYPE job:requests:rate5m counter\n"))
    }

    func testExpositionEndsWithNewlineAndIsEmptyWhenNothingRegistered() {
        XCTAssertEqual(MetricsRegistry().exposition(), "")
        let registry = MetricsRegistry()
        _ = registry.gauge("g", help: "")
        XCTAssertEqual(registry.exposition(), "# HELP g \n# TYPE g gauge\ng 0\n")
    }
}
