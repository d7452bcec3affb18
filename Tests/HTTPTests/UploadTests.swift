// Request bodies sent to a file: stored as they arrive for the policy's paths and allowed peers only, refused on
// the head (wrong peer, too large, no room) before a byte is written, and removed when the request goes or when
// the upload is cut off.
import Foundation
import Platform
import TestKit
import XCTest

@testable import HTTP

final class UploadTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "upload")
    }

    override func tearDown() {
        directory.remove()
    }

    func policy(allowed: Bool = true, maxBytes: Int = 1 << 20, fits: String? = nil) -> UploadPolicy {
        UploadPolicy(paths: ["/v1/admin/bundles"], directory: directory.root, maxBytes: maxBytes, timeoutSeconds: 60,
                     allowed: { _ in allowed }, fits: { _ in fits })
    }

    func files() throws -> [String] { try FileSystem.listDirectory(directory.root) }

    /// Feeds `bytes` in pieces of `step` and returns the request, if one completed.
    func feed(_ parser: inout HTTPParser, _ bytes: [UInt8], step: Int = 7) throws -> HTTPRequest? {
        var offset = 0
        var pending: [UInt8] = []
        while offset < bytes.count {
            pending += bytes[offset..<min(bytes.count, offset + step)]
            offset += step
            var consumed = 0
            let event = try pending.withUnsafeBytes { try parser.parse($0, consumed: &consumed) }
            pending.removeFirst(consumed)
            if case .request(let request) = event { return request }
        }
        return nil
    }

    func request(_ path: String, body: [UInt8], chunked: Bool = false) -> [UInt8] {
        if chunked {
            var out = Array("POST \(path) HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
            for start in stride(from: 0, to: body.count, by: 1000) {
                let piece = body[start..<min(body.count, start + 1000)]
                out += Array(String(piece.count, radix: 16).utf8) + [13, 10] + piece + [13, 10]
            }
            return out + Array("0\r\n\r\n".utf8)
        }
        return Array("POST \(path) HTTP/1.1\r\nHost: x\r\nContent-Length: \(body.count)\r\n\r\n".utf8) + body
    }

    func testBodiesOfTheUploadPathGoToAFileRemovedWithTheRequest() throws {
        var random = SplitMix64(seed: 9)
        let body = (0..<100_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for chunked in [false, true] {
            var parser = HTTPParser(limits: HTTPLimits(maxBodyBytes: 1000), uploads: policy())
            var request = try XCTUnwrap(try feed(&parser, request("/v1/admin/bundles", body: body, chunked: chunked), step: 4093))
            XCTAssertTrue(request.body.isEmpty)
            let upload = try XCTUnwrap(request.upload)
            XCTAssertEqual(upload.count, body.count)
            XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: upload.path))), body)
            XCTAssertEqual(try files().count, 1)
            request.upload = nil
            _ = upload
        }
        XCTAssertEqual(try files(), [], "the files go with their requests")
        // Other paths keep the ordinary limit and memory bodies.
        var parser = HTTPParser(limits: HTTPLimits(maxBodyBytes: 1000), uploads: policy())
        XCTAssertThrowsError(try feed(&parser, request("/v1/completions", body: body))) {
            XCTAssertEqual(($0 as? HTTPParseError)?.status, .payloadTooLarge)
        }
    }

    func testRefusedOnTheHeadBeforeAByteIsStored() throws {
        let body = [UInt8](repeating: 1, count: 5000)
        for (policy, status) in [(policy(allowed: false), HTTPStatus.forbidden), (policy(maxBytes: 4000), .payloadTooLarge),
                                 (policy(fits: "no room"), .insufficientStorage)] {
            var parser = HTTPParser(limits: HTTPLimits(), uploads: policy)
            XCTAssertThrowsError(try feed(&parser, request("/v1/admin/bundles", body: body))) {
                XCTAssertEqual(($0 as? HTTPParseError)?.status, status, "\($0)")
            }
            XCTAssertEqual(try files(), [])
        }
    }

    func testACutOffUploadLeavesNothing() throws {
        do {
            var parser = HTTPParser(limits: HTTPLimits(), uploads: policy())
            let bytes = request("/v1/admin/bundles", body: [UInt8](repeating: 2, count: 50_000))
            XCTAssertNil(try feed(&parser, Array(bytes.prefix(30_000)), step: 1000))
            XCTAssertTrue(parser.isUploading)
            XCTAssertEqual(try files().count, 1)
        }
        XCTAssertEqual(try files(), [], "the partial upload goes with its connection's parser")
    }
}
