import XCTest
@testable import Inference

final class DecodingTests: XCTestCase {
    func testLogprobsAreALogSoftmaxWithTheLargestAlternativesFirst() {
        let logits: [Float] = [1, 3, 2, -1, 3.5]
        let lp = logits.withUnsafeBufferPointer { Decoding.logprob(of: 2, in: $0, top: 3) }
        let z = log(logits.map { exp(Double($0)) }.reduce(0, +))
        XCTAssertEqual(Double(lp.logprob), 2 - z, accuracy: 1e-5)
        XCTAssertEqual(lp.top.map(\.token), [4, 1, 2])
        for alt in lp.top { XCTAssertEqual(Double(alt.logprob), Double(logits[Int(alt.token)]) - z, accuracy: 1e-5) }
        let none = logits.withUnsafeBufferPointer { Decoding.logprob(of: 0, in: $0, top: 0) }
        XCTAssertTrue(none.top.isEmpty)
    }

    func testOptionsOutOfRangeAreRefused() {
        var o = GenerationOptions()
        o.logprobs = GenerationOptions.maxTopLogprobs + 1
        XCTAssertThrowsError(try o.validated())
        o.logprobs = -1
        XCTAssertThrowsError(try o.validated())
        o.logprobs = 5
        XCTAssertNoThrow(try o.validated())
    }
}
