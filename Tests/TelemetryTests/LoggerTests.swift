import Platform
import Synchronization
import Telemetry
import XCTest

/// 2026-11-23T06:50:04.123Z
private let fixedTime = 1_795_416_604.123

final class LoggerTests: XCTestCase {

    func testSeverityFiltering() {
        let sink = CapturingLogSink()
        let logger = Logger(minimum: .notice, sink: sink, clock: { fixedTime })
        logger.debug("d")
        logger.info("i")
        logger.notice("n")
        logger.warning("w")
        logger.error("e")
        logger.log(.info, "also dropped")
        XCTAssertEqual(sink.records.map(\.message), ["n", "w", "e"])
        XCTAssertEqual(sink.records.map(\.severity), [.notice, .warning, .error])
        XCTAssertFalse(logger.isEnabled(.info))
        XCTAssertTrue(logger.isEnabled(.notice))
        XCTAssertTrue(logger.isEnabled(.error))
    }

    func testDisabledLevelsDoNotBuildTheirMessage() {
        let built = Atomic<Int>(0)
        func expensive() -> String {
            built.add(1, ordering: .relaxed)
            return "expensive"
        }
        let logger = Logger(minimum: .info, sink: CapturingLogSink())
        logger.debug(expensive(), [LogField("DETAIL", expensive())])
        XCTAssertEqual(built.load(ordering: .relaxed), 0)
        logger.info(expensive())
        XCTAssertEqual(built.load(ordering: .relaxed), 1)
    }

    func testWithAddsContextFieldsBeforeCallFields() {
        let sink = CapturingLogSink()
        let root = Logger(minimum: .debug, sink: sink, clock: { fixedTime })
        let request = root.with([LogField("REQUEST_ID", "r-1")]).with([LogField("REQUEST_PATH", "/v1/health")])
        request.info("answered", [LogField("STATUS", "200")])
        root.info("plain")
        XCTAssertEqual(
            sink.records,
            [
                LogRecord(
                    severity: .info, message: "answered",
                    fields: [
                        LogField("REQUEST_ID", "r-1"), LogField("REQUEST_PATH", "/v1/health"),
                        LogField("STATUS", "200"),
                    ], timestamp: fixedTime),
                LogRecord(severity: .info, message: "plain", fields: [], timestamp: fixedTime),
            ])
    }

    func testSeverityNamesOrderAndSyslogNumbers() {
        for severity in LogSeverity.allCases {
            XCTAssertEqual(LogSeverity(name: severity.name), severity)
        }
        XCTAssertNil(LogSeverity(name: "warn"))
        XCTAssertNil(LogSeverity(name: "INFO"))
        XCTAssertEqual(LogSeverity(name: "warning")?.rawValue, 4)
        XCTAssertEqual(LogSeverity.debug.rawValue, 7)
        XCTAssertEqual(LogSeverity.error.rawValue, 3)
        XCTAssertTrue(LogSeverity.debug < .info)
        XCTAssertTrue(LogSeverity.warning < .error)
        XCTAssertEqual(LogSeverity.allCases.sorted(), [.debug, .info, .notice, .warning, .error])
    }

    func testWallClockIsNearNow() {
        let sink = CapturingLogSink()
        Logger(minimum: .info, sink: sink).info("now")
        // After 2024-01-01 and before 2100-01-01: catches a clock in the wrong unit or epoch.
        let timestamp = sink.records.first?.timestamp ?? 0
        XCTAssertGreaterThan(timestamp, 1_704_067_200)
        XCTAssertLessThan(timestamp, 4_102_444_800)
    }

    func testCapturingSinkCopiesShareRecordsAcrossThreads() {
        let sink = CapturingLogSink()
        let copy = sink
        let logger = Logger(minimum: .debug, sink: copy)
        onThreads(4) { index in
            for i in 0..<1000 { logger.debug("\(index)-\(i)") }
        }
        XCTAssertEqual(sink.records.count, 4000)
        sink.removeAll()
        XCTAssertTrue(copy.records.isEmpty)
    }
}
