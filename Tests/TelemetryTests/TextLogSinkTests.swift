import Platform
import Synchronization
import Telemetry
import XCTest

final class TextLogSinkTests: XCTestCase {
    func line(_ message: String, _ fields: [LogField] = [], at timestamp: Double = 1_795_416_604.123,
              _ severity: LogSeverity = .notice) -> String {
        TextLogSink.format(LogRecord(severity: severity, message: message, fields: fields, timestamp: timestamp))
    }

    func testExactLineWithFields() {
        XCTAssertEqual(
            line("model loaded", [LogField("MODEL", "tiny"), LogField("MODEL_PATH", "/var/lib/outpost/my models")]),
            "2026-11-23T06:50:04.123Z notice model loaded model=tiny model_path=\"/var/lib/outpost/my models\"")
    }

    func testValuesAreQuotedOnlyWhenNeeded() {
        let fields = [
            LogField("PLAIN", "/v1/health"), LogField("EMPTY", ""), LogField("EQUALS", "a=b"),
            LogField("QUOTE", "say \"hi\""), LogField("MULTI", "one\ntwo"), LogField("BACKSLASH", "C:\\x"),
            LogField("BOTH", "a \\ b"), LogField("UNICODE", "modèle"),
        ]
        XCTAssertEqual(
            line("m", fields, .error),
            "2026-11-23T06:50:04.123Z error m plain=/v1/health empty=\"\" equals=\"a=b\" quote=\"say \\\"hi\\\"\""
                + " multi=\"one\\ntwo\" backslash=C:\\x both=\"a \\\\ b\" unicode=modèle")
    }

    func testMessageLineBreaksAreEscaped() {
        XCTAssertEqual(
            line("first\nsecond\r\nthird", [], .info), "2026-11-23T06:50:04.123Z info first\\nsecond\\r\\nthird")
    }

    func testTimestampsAcrossCalendarEdges() {
        XCTAssertEqual(line("x", at: 0).prefix(24), "1970-01-01T00:00:00.000Z")
        XCTAssertEqual(line("x", at: 951_868_799.999).prefix(24), "2000-02-29T23:59:59.999Z")
        XCTAssertEqual(line("x", at: 951_868_800).prefix(24), "2000-03-01T00:00:00.000Z")
        XCTAssertEqual(line("x", at: 4_107_542_400).prefix(24), "2100-03-01T00:00:00.000Z")
        XCTAssertEqual(line("x", at: 4_107_542_399).prefix(24), "2100-02-28T23:59:59.000Z")
        XCTAssertEqual(line("x", at: -1).prefix(24), "1969-12-31T23:59:59.000Z")
        XCTAssertEqual(line("x", at: -0.5).prefix(24), "1969-12-31T23:59:59.500Z")
        XCTAssertEqual(line("x", at: 1_795_416_604.9996).prefix(24), "2026-11-23T06:50:05.000Z")
        XCTAssertEqual(line("x", at: 1e300).prefix(24), "9999-12-31T23:59:59.999Z")
        XCTAssertEqual(line("x", at: .nan).prefix(24), "1970-01-01T00:00:00.000Z")
    }

    func testEverySecondOfALeapDay() {
        // Each whole second of 2024-02-29 (a leap day) must print that date and its own clock time.
        let start = 1_709_164_800.0
        for second in stride(from: 0, to: 86_400, by: 1) {
            let stamp = line("x", at: start + Double(second)).prefix(24)
            let expected =
                "2024-02-29T" + two(second / 3600) + ":" + two(second / 60 % 60) + ":" + two(second % 60) + ".000Z"
            if stamp != expected {
                XCTFail("\(second): \(stamp) != \(expected)")
                return
            }
        }
    }

    func testSinkWritesWholeLines() {
        let written = Mutex<[String]>([])
        let logger = Logger(
            minimum: .info, sink: TextLogSink(write: { text in written.withLock { $0.append(text) } }),
            clock: { 1_795_416_604.123 })
        logger.with([LogField("REQUEST_PATH", "/v1/health")]).warning("slow", [LogField("MILLIS", "1500")])
        XCTAssertEqual(
            written.withLock { $0 }, ["2026-11-23T06:50:04.123Z warning slow request_path=/v1/health millis=1500"])
    }

    private func two(_ n: Int) -> String {
        n < 10 ? "0\(n)" : "\(n)"
    }
}
