import TestKit
import XCTest
@testable import HTTP

final class HTTPParserTests: XCTestCase {
    /// Parses `text` in one go, returning the events and how many bytes were used.
    private func parseAll(_ bytes: [UInt8], limits: HTTPLimits = HTTPLimits()) throws -> [HTTPParser.Event] {
        var parser = HTTPParser(limits: limits)
        var events: [HTTPParser.Event] = []
        var offset = 0
        while offset <= bytes.count {
            var consumed = 0
            let event = try bytes.withUnsafeBytes { raw throws(HTTPParseError) in
                try parser.parse(UnsafeRawBufferPointer(rebasing: raw[offset...]), consumed: &consumed)
            }
            offset += consumed
            if case .needMore = event { break }
            events.append(event)
        }
        return events
    }

    private func parseAll(_ text: String, limits: HTTPLimits = HTTPLimits()) throws -> [HTTPParser.Event] {
        try parseAll(Array(text.utf8), limits: limits)
    }

    private func requests(_ events: [HTTPParser.Event]) -> [HTTPRequest] {
        events.compactMap { if case .request(let r) = $0 { return r } else { return nil } }
    }

    private func expectError(_ text: String, _ code: Int, _ fragment: String, limits: HTTPLimits = HTTPLimits(),
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try parseAll(text, limits: limits), file: file, line: line) { error in
            guard let error = error as? HTTPParseError else { return XCTFail("not an HTTPParseError: \(error)", file: file, line: line) }
            XCTAssertEqual(error.status.code, code, "\(error)", file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "message '\(error.message)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testSimpleGet() throws {
        let all = requests(try parseAll("GET /v1/health?x=1&y HTTP/1.1\r\nHost: localhost\r\nX-A:  spaced value \t\r\n\r\n"))
        XCTAssertEqual(all.count, 1)
        let request = all[0]
        XCTAssertEqual(request.method, .get)
        XCTAssertEqual(request.target, "/v1/health?x=1&y")
        XCTAssertEqual(request.path, "/v1/health")
        XCTAssertEqual(request.queryValue("x"), "1")
        XCTAssertEqual(request.queryValue("y"), "")
        XCTAssertNil(request.queryValue("z"))
        XCTAssertEqual(request.version, .http1_1)
        XCTAssertEqual(request.headers["host"], "localhost")
        XCTAssertEqual(request.headers["X-A"], "spaced value")
        XCTAssertTrue(request.wantsKeepAlive)
        XCTAssertTrue(request.body.isEmpty)
    }

    func testLeadingEmptyLinesAreIgnored() throws {
        XCTAssertEqual(requests(try parseAll("\r\n\r\nGET / HTTP/1.1\r\n\r\n")).map(\.target), ["/"])
    }

    func testKeepAliveRules() throws {
        XCTAssertFalse(requests(try parseAll("GET / HTTP/1.1\r\nConnection: close\r\n\r\n"))[0].wantsKeepAlive)
        XCTAssertFalse(requests(try parseAll("GET / HTTP/1.0\r\n\r\n"))[0].wantsKeepAlive)
        XCTAssertTrue(requests(try parseAll("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"))[0].wantsKeepAlive)
        XCTAssertFalse(requests(try parseAll("GET / HTTP/1.1\r\nConnection: upgrade, close\r\n\r\n"))[0].wantsKeepAlive)
    }

    func testContentLengthBody() throws {
        let all = requests(try parseAll("POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET /y HTTP/1.1\r\n\r\n"))
        XCTAssertEqual(all.map(\.target), ["/x", "/y"])
        XCTAssertEqual(all[0].body, Array("hello".utf8))
    }

    func testChunkedBodyWithExtensionsAndTrailers() throws {
        let text = "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5;name=v\r\nhello\r\nA\r\n, world!!!\r\n0\r\nX-Trailer: 1\r\n\r\n"
        let all = requests(try parseAll(text))
        XCTAssertEqual(all.count, 1)
        XCTAssertEqual(String(decoding: all[0].body, as: UTF8.self), "hello, world!!!")
    }

    func testPipelinedRequestsInOrder() throws {
        var text = ""
        for i in 0..<50 { text += "GET /r\(i) HTTP/1.1\r\nHost: a\r\n\r\n" }
        XCTAssertEqual(requests(try parseAll(text)).map(\.target), (0..<50).map { "/r\($0)" })
    }

    func testByteAtATimeGivesTheSameRequest() throws {
        let bytes = Array("POST /slow HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n".utf8)
        var parser = HTTPParser(limits: HTTPLimits())
        var buffer: [UInt8] = []
        var start = 0
        var got: HTTPRequest?
        for byte in bytes {
            buffer.append(byte)
            var consumed = 0
            let event = try buffer.withUnsafeBytes { raw throws(HTTPParseError) in
                try parser.parse(UnsafeRawBufferPointer(rebasing: raw[start...]), consumed: &consumed)
            }
            start += consumed
            if case .request(let request) = event { got = request }
        }
        XCTAssertEqual(got?.body, Array("abc".utf8))
        XCTAssertEqual(start, bytes.count)
    }

    func testExpectContinueIsReportedOnceBeforeTheBody() throws {
        let head = "POST /e HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n"
        let events = try parseAll(head)
        XCTAssertEqual(events.count, 1)
        guard case .expectsContinue = events[0] else { return XCTFail("expected .expectsContinue, got \(events)") }
        // With the body already there, no 100 Continue is needed.
        XCTAssertEqual(requests(try parseAll(head + "abc")).count, 1)
        XCTAssertEqual(try parseAll(head + "abc").count, 1)
    }

    func testMalformedInput() {
        expectError("GARBAGE\r\n\r\n", 400, "malformed request line")
        expectError("GET /\r\n\r\n", 400, "malformed request line")
        expectError("GET  / HTTP/1.1\r\n\r\n", 400, "malformed request line")
        expectError("G(T / HTTP/1.1\r\n\r\n", 400, "invalid method")
        expectError("GET / HTTP/1.1 extra\r\n\r\n", 400, "malformed")
        expectError("GET relative HTTP/1.1\r\n\r\n", 400, "absolute path")
        expectError("GET / HTTX/1.1\r\n\r\n", 400, "malformed HTTP version")
        expectError("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400, "without ':'")
        expectError("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400, "invalid header field name")
        expectError("GET / HTTP/1.1\r\n: x\r\n\r\n", 400, "invalid header field name")
        expectError("GET / HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", 400, "folding")
        expectError("GET / HTTP/1.1\r\nA: b\u{7f}c\r\n\r\n", 400, "invalid byte in value of header A")
        expectError("GET / HTTP/1.1\nA: b\r\n\r\n", 400, "bare LF")
        expectError("\u{1}\u{2}\u{3}binary", 400, "invalid byte 0x1")
        expectError("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "invalid Content-Length")
        expectError("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "invalid Content-Length")
        expectError("POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "conflicting")
        expectError("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400, "invalid Content-Length")
        expectError("POST / HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "both")
        expectError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400, "invalid character in chunk size")
        expectError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n\r\n", 400, "chunk size missing")
        expectError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n", 400, "not followed by CRLF")
        expectError("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "HTTP/1.0")
    }

    func testUnsupportedThings() {
        expectError("BREW /pot HTTP/1.1\r\n\r\n", 501, "BREW")
        expectError("CONNECT / HTTP/1.1\r\n\r\n", 501, "CONNECT")
        expectError("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "Transfer-Encoding")
        expectError("GET / HTTP/2.0\r\n\r\n", 505, "not supported")
        expectError("POST / HTTP/1.1\r\nContent-Length: 1\r\nExpect: magic\r\n\r\n", 417, "Expect")
    }

    func testLimits() {
        let small = HTTPLimits(maxHeaderBytes: 1024, maxHeaderCount: 4, maxBodyBytes: 10)
        expectError("GET / HTTP/1.1\r\nA: " + String(repeating: "x", count: 2000) + "\r\n\r\n", 431, "exceed 1024", limits: small)
        expectError("GET / HTTP/1.1\r\nA: " + String(repeating: "x", count: 2000), 431, "exceed 1024", limits: small)
        expectError("GET / HTTP/1.1\r\na: 1\r\nb: 1\r\nc: 1\r\nd: 1\r\ne: 1\r\n\r\n", 431, "more than 4", limits: small)
        expectError("POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 413, "exceeds the limit of 10", limits: small)
        expectError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\nabcdef\r\n", 413, "exceeds", limits: small)
        expectError("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffff\r\n", 413, "too large", limits: small)
        expectError("GET /" + String(repeating: "a", count: 2000), 414, "request line", limits: small)
        // Exactly at the limit is fine.
        let atLimit = HTTPLimits(maxHeaderBytes: 64, maxHeaderCount: 4, maxBodyBytes: 10)
        let head = "GET / HTTP/1.1\r\nA: " + String(repeating: "y", count: 64 - 19 - 2) + "\r\n"
        XCTAssertEqual(head.utf8.count, 64)
        XCTAssertEqual(requests((try? parseAll(head + "\r\n", limits: atLimit)) ?? []).count, 1)
    }

    func testTruncatedInputNeedsMore() throws {
        for text in ["GET / HTTP/1.1\r\nHost: x\r\n", "GET / HT", "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc",
                     "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab"] {
            XCTAssertTrue(try parseAll(text).isEmpty, "\(text) should need more bytes")
        }
    }

    func testRandomAndMutatedInputNeverCrashes() {
        var rng = SplitMix64(seed: 42)
        let seeds = ["GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
                     "POST /v1/x HTTP/1.1\r\nContent-Length: 4\r\n\r\nabcd",
                     "POST /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"].map { Array($0.utf8) }
        var outcomes = [0, 0, 0]
        for i in 0..<20000 {
            var bytes = seeds[i % seeds.count]
            if i % 5 == 0 {
                bytes = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                for _ in 0..<(1 + rng.next() % 4) {
                    let position = Int(rng.next() % UInt64(bytes.count + 1))
                    switch rng.next() % 3 {
                    case 0 where position < bytes.count: bytes[position] = UInt8(truncatingIfNeeded: rng.next())
                    case 1: bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position)
                    default: bytes = Array(bytes[0..<position])
                    }
                }
            }
            do {
                let events = try parseAll(bytes, limits: HTTPLimits(maxHeaderBytes: 256, maxHeaderCount: 8, maxBodyBytes: 64))
                outcomes[events.isEmpty ? 0 : 1] += 1
            } catch let error as HTTPParseError {
                XCTAssertTrue([400, 413, 414, 417, 431, 501, 505].contains(error.status.code), "\(error)")
                outcomes[2] += 1
            } catch {
                XCTFail("unexpected error \(error)")
            }
        }
        // Every class of outcome happened: the mutations reach all parser paths.
        XCTAssertTrue(outcomes.allSatisfy { $0 > 100 }, "\(outcomes)")
    }
}

