// Reading RFC 3339 UTC times back: every second of a leap day and calendar edges round-trip through format and
// parse, and what is not a real time in that form is refused.
import Platform
import XCTest

final class UTCTimestampTests: XCTestCase {
    func testRoundTripsAcrossCalendarEdges() {
        for seconds: Int64 in [0, 951_868_799, 951_868_800, 4_107_542_399, 4_107_542_400, -1, 1_796_700_000, 253_402_300_799] {
            let text = UTCTimestamp.format(wholeSeconds: seconds)
            XCTAssertEqual(UTCTimestamp.parse(text), seconds, text)
        }
        XCTAssertEqual(UTCTimestamp.format(wholeSeconds: 1_709_164_800), "2024-02-29T00:00:00Z")
        for day in stride(from: Int64(-719_000), to: 2_900_000, by: 97) {
            XCTAssertEqual(UTCTimestamp.parse(UTCTimestamp.format(wholeSeconds: day * 86_400 + 43_199)), day * 86_400 + 43_199)
        }
    }

    func testFractionsAreAcceptedAndDropped() {
        XCTAssertEqual(UTCTimestamp.parse("2026-12-08T01:25:31.123Z"), UTCTimestamp.parse("2026-12-08T01:25:31Z"))
    }

    func testWhatIsNotAUTCTimeIsRefused() {
        for text in ["", "2026-12-08", "2026-12-08T01:25:31", "2026-12-08T01:25:31+01:00", "2026-02-30T00:00:00Z",
                     "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z", "2026-00-10T00:00:00Z", "2026-12-08T24:00:00Z",
                     "2026-12-08T23:60:00Z", "2026-12-08T23:59:60Z", "2026-12-08 01:25:31Z", "2026-12-08T01:25:31.Z",
                     "+026-12-08T01:25:31Z", "2026-12-08T01:25:3xZ", "２026-12-08T01:25:31Z"] {
            XCTAssertNil(UTCTimestamp.parse(text), text)
        }
    }
}
