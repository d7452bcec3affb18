import XCTest
@testable import Serving

final class RateLimiterTests: XCTestCase {
    func testBurstThenRefillAtTheRate() {
        let limiter = RateLimiter(perMinute: 60, burst: 3)  // one token a second
        XCTAssertNil(limiter.take(uid: 1000, now: 100))
        XCTAssertNil(limiter.take(uid: 1000, now: 100))
        XCTAssertNil(limiter.take(uid: 1000, now: 100))
        let wait = limiter.take(uid: 1000, now: 100)
        XCTAssertEqual(wait ?? 0, 1, accuracy: 1e-9)
        XCTAssertNil(limiter.take(uid: 1001, now: 100), "another uid has its own bucket")
        XCTAssertNotNil(limiter.take(uid: 1000, now: 100.5))
        XCTAssertNil(limiter.take(uid: 1000, now: 101.6))
        // A long pause refills no more than the burst.
        for _ in 0..<3 { XCTAssertNil(limiter.take(uid: 1000, now: 10_000)) }
        XCTAssertNotNil(limiter.take(uid: 1000, now: 10_000))
    }

    func testZeroRateDisablesTheLimit() {
        let limiter = RateLimiter(perMinute: 0, burst: 1)
        for _ in 0..<100 { XCTAssertNil(limiter.take(uid: 5, now: 1)) }
    }
}
