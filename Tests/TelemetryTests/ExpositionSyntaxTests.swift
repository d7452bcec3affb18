// Reads our exposition back with an independent line parser, the way a Prometheus scraper would.
import Telemetry
import XCTest

final class ExpositionSyntaxTests: XCTestCase {
    struct Sample: Equatable {
        var name: String
        var labels: [String: String]
        var value: Double
    }

    enum LineError: Error, Equatable {
        case badComment(String), badName(String), badLabels(String), badValue(String), outsideFamily(String)
    }

    func testEveryLineOfARichExpositionParses() throws {
        let registry = MetricsRegistry()
        let requests = registry.counter("http_requests_total", help: "Requests\\\n.", labelNames: ["route", "code"])
        requests.labels("/v1/infer", "200").inc(by: 3)
        requests.labels("we\"ird\\ \n{}=,", "500").inc()
        let gauge = registry.gauge("temperature_celsius", help: "Temp.", labelNames: ["zone"])
        gauge.labels("a").set(-12.5)
        gauge.labels("b").set(.nan)
        gauge.labels("c").set(-.infinity)
        registry.gauge("process_resident_memory_bytes", help: "RSS.") { 123_456_789 }
        let latency = registry.histogram(
            "request_seconds", help: "Latency.", labelNames: ["route"], buckets: Buckets.latencySeconds)
        latency.labels("/v1/infer").observe(0.0042)
        latency.labels("/v1/infer").observe(12)
        _ = registry.histogram(
            "empty_seconds", help: "Unused.", buckets: Buckets.exponential(start: 0.001, factor: 3, count: 6))

        let text = registry.exposition()
        XCTAssertTrue(text.hasSuffix("\n"))
        let samples = try parse(text)
        XCTAssertEqual(samples.count, 2 + 3 + 1 + (16 + 2) + (7 + 2))
        XCTAssertTrue(
            samples.contains(
                Sample(name: "http_requests_total", labels: ["route": "we\"ird\\ \n{}=,", "code": "500"], value: 1)))
        XCTAssertTrue(samples.contains(Sample(name: "request_seconds_count", labels: ["route": "/v1/infer"], value: 2)))
        XCTAssertTrue(
            samples.contains(
                Sample(name: "request_seconds_bucket", labels: ["route": "/v1/infer", "le": "0.005"], value: 1)))
        XCTAssertTrue(samples.contains(Sample(name: "temperature_celsius", labels: ["zone": "c"], value: -.infinity)))
    }

    func testParserRejectsBrokenLines() {
        let header = "# HELP m M.\n# TYPE m gauge\n"
        XCTAssertThrowsError(try parse(header + "m{a=\"unterminated} 1\n"))
        XCTAssertThrowsError(try parse(header + "m{a=\"x\\q\"} 1\n"))
        XCTAssertThrowsError(try parse(header + "m 1.2.3\n"))
        XCTAssertThrowsError(try parse(header + "other 1\n"))
        XCTAssertThrowsError(try parse(header + "m{1a=\"x\"} 1\n"))
        XCTAssertThrowsError(try parse("# TYPE m gauge\n# TYPE m counter\n"))
        XCTAssertNoThrow(try parse(header + "m{a=\"x\",b=\"\\\"\"} +Inf\n"))
    }

    // MARK: - A tiny text-format parser

    /// Samples in order; throws on any line a scraper would reject or on a sample outside its TYPE's family.
    func parse(_ text: String) throws -> [Sample] {
        var samples: [Sample] = []
        var typed: Set<String> = []
        var current: (name: String, type: String)?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            if line.hasPrefix("#") {
                let parts = line.split(separator: " ", maxSplits: 3, omittingEmptySubsequences: false)
                guard parts.count >= 3, parts[0] == "#", isMetricName(parts[2]) else {
                    throw LineError.badComment(String(line))
                }
                if parts[1] == "TYPE" {
                    let name = String(parts[2])
                    guard parts.count == 4, ["counter", "gauge", "histogram"].contains(parts[3]),
                        typed.insert(name).inserted
                    else { throw LineError.badComment(String(line)) }
                    current = (name, String(parts[3]))
                } else if parts[1] != "HELP" {
                    throw LineError.badComment(String(line))
                }
                continue
            }
            let sample = try parseSample(Substring(line))
            guard let current else { throw LineError.outsideFamily(String(line)) }
            let allowed =
                current.type == "histogram"
                ? [current.name + "_bucket", current.name + "_sum", current.name + "_count"] : [current.name]
            guard allowed.contains(sample.name) else { throw LineError.outsideFamily(String(line)) }
            samples.append(sample)
        }
        return samples
    }

    func parseSample(_ line: Substring) throws -> Sample {
        var rest = line
        let name = rest.prefix { $0 != "{" && $0 != " " }
        guard isMetricName(name) else { throw LineError.badName(String(line)) }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let label = rest.prefix { $0 != "=" }
                guard isLabelName(label), labels[String(label)] == nil else { throw LineError.badLabels(String(line)) }
                rest = rest.dropFirst(label.count)
                guard rest.hasPrefix("=\"") else { throw LineError.badLabels(String(line)) }
                rest = rest.dropFirst(2)
                var value = ""
                while true {
                    guard let c = rest.popFirst() else { throw LineError.badLabels(String(line)) }
                    if c == "\"" { break }
                    if c == "\n" { throw LineError.badLabels(String(line)) }
                    if c == "\\" {
                        switch rest.popFirst() {
                        case "\\": value.append("\\")
                        case "\"": value.append("\"")
                        case "n": value.append("\n")
                        default: throw LineError.badLabels(String(line))
                        }
                    } else {
                        value.append(c)
                    }
                }
                labels[String(label)] = value
                if rest.first == "," { rest = rest.dropFirst() } else if rest.first != "}" {
                    throw LineError.badLabels(String(line))
                }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " " else { throw LineError.badValue(String(line)) }
        rest = rest.dropFirst()
        let value: Double
        switch rest {
        case "+Inf": value = .infinity
        case "-Inf": value = -.infinity
        case "NaN": value = .nan
        default:
            // Go's ParseFloat accepts this shape; Swift's Double(_:) would also take "inf" and hex, so we narrow it.
            guard rest.allSatisfy({ "0123456789.eE+-".contains($0) }), let parsed = Double(rest) else {
                throw LineError.badValue(String(line))
            }
            value = parsed
        }
        return Sample(name: String(name), labels: labels, value: value)
    }

    func isMetricName(_ s: Substring) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first == "_" || first == ":" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }
    }

    func isLabelName(_ s: Substring) -> Bool {
        guard let first = s.first, first.isASCII, first.isLetter || first == "_" else { return false }
        return s.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }
    }
}
