import Telemetry
import XCTest

final class GaugeTests: XCTestCase {
    func testGaugeSetIncDec() {
        let registry = MetricsRegistry()
        let inFlight = registry.gauge("in_flight", help: "Requests in flight.")
        inFlight.inc()
        inFlight.inc(3)
        inFlight.dec()
        XCTAssertEqual(inFlight.value, 3)
        let loaded = registry.gauge("model_loaded", help: "Whether a model is loaded.", labelNames: ["model"])
        loaded.labels("tiny").set(1)
        loaded.labels("big").set(0.5)
        loaded.labels("big").dec(by: 2)
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP in_flight Requests in flight.
            # TYPE in_flight gauge
            in_flight 3
            # HELP model_loaded Whether a model is loaded.
            # TYPE model_loaded gauge
            model_loaded{model="big"} -1.5
            model_loaded{model="tiny"} 1

            """)
    }

    func testNonFiniteValuesAreSpelledForPrometheus() {
        let registry = MetricsRegistry()
        let g = registry.gauge("g", help: "G.", labelNames: ["k"])
        g.labels("a").set(.infinity)
        g.labels("b").set(-.infinity)
        g.labels("c").set(.nan)
        g.labels("d").set(0.005)
        g.labels("e").set(1e-7)
        g.labels("f").set(1e20)
        g.labels("g").set(-0.0)
        XCTAssertEqual(
            registry.exposition(),
            """
            # HELP g G.
            # TYPE g gauge
            g{k="a"} +Inf
            g{k="b"} -Inf
            g{k="c"} NaN
            g{k="d"} 0.005
            g{k="e"} 1e-07
            g{k="f"} 1e+20
            g{k="g"} 0

            """)
    }

    func testSampledGaugeIsReadAtScrapeTime() {
        let registry = MetricsRegistry()
        let source = registry.gauge("source", help: "Feeds the sampled one.")
        registry.gauge("resident_memory_bytes", help: "Resident set size.") { source.value * 2 }
        source.set(1024)
        XCTAssertTrue(registry.exposition().hasSuffix(
            """
            # HELP resident_memory_bytes Resident set size.
            # TYPE resident_memory_bytes gauge
            resident_memory_bytes 2048

            """))
        source.set(4096)
        XCTAssertTrue(registry.exposition().hasSuffix("resident_memory_bytes 8192\n"))
    }

    func testSampledGaugeMayUseTheRegistry() {
        // The sample closure runs outside the registry lock, so it can register or scrape without deadlock.
        let registry = MetricsRegistry()
        registry.gauge("families", help: "Registers while sampled.") {
            _ = registry.counter("late_total", help: "Registered during a scrape.")
            return 1
        }
        XCTAssertTrue(registry.exposition().contains("families 1\n"))
        XCTAssertTrue(registry.exposition().contains("late_total 0\n"))
    }
}
