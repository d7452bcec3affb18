// Release documents and their checks in order: signatures as a bundle's, release.json strictly, the channel
// followed, the number never lower than the highest accepted (a replay), the expiry (a freeze).
import Foundation
import Platform
import TestKit
import XCTest

@testable import Bundles

final class ReleaseTests: XCTestCase {
    let now: Int64 = 1_796_700_000
    var key: MinisignSecretKey!
    var other: MinisignSecretKey!

    override func setUpWithError() throws {
        key = try MinisignSecretKey.generate()
        other = try MinisignSecretKey.generate()
    }

    func release(number: Int64 = 5, channel: String = "stable", expires: Int64? = nil) -> ReleaseManifest {
        ReleaseManifest(channel: channel, number: number, created: UTCTimestamp.format(wholeSeconds: now - 3600),
                        expires: UTCTimestamp.format(wholeSeconds: expires ?? now + 86_400),
                        bundles: ["support-bot": .init(version: SemanticVersion(1, 4, 0), manifest: Digest("sha256:" + String(repeating: "ab", count: 32))!)])
    }

    func signed(_ release: ReleaseManifest, by signer: MinisignSecretKey? = nil) throws -> ([UInt8], [[UInt8]]) {
        let bytes = release.bytes
        return (bytes, [Array(try MinisignSignature.sign(bytes, with: signer ?? key, trustedComment: "release").utf8)])
    }

    var verifier: BundleVerifier {
        BundleVerifier(trusted: try! TrustedKeys([(key.publicKey, "team.pub")]), threshold: 1, now: now, agentVersion: SemanticVersion(0, 1, 0))
    }

    func assertRefused(_ document: [UInt8], _ signatures: [[UInt8]], channel: String = "stable", atLeast: Int64 = 0,
                       _ kind: ReleaseError.Kind, _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try verifier.verifyRelease(document: document, signatures: signatures, channel: channel, atLeast: atLeast), line: line) {
            guard let error = $0 as? ReleaseError else { return XCTFail("\($0)", line: line) }
            XCTAssertEqual(error.kind, kind, "\(error)", line: line)
            XCTAssertTrue(error.message.contains(fragment), "\(error.message) lacks \(fragment)", line: line)
        }
    }

    func testAGoodReleaseVerifiesAndRoundTrips() throws {
        let (document, signatures) = try signed(release())
        let (parsed, signers) = try verifier.verifyRelease(document: document, signatures: signatures, channel: "stable", atLeast: 5)
        XCTAssertEqual(parsed, release())
        XCTAssertEqual(signers, [Minisign.keyIDText(key.keyID)])
    }

    func testEveryRefusal() throws {
        let (document, signatures) = try signed(release())
        assertRefused(document, signatures, atLeast: 6, .rollback, "older than release 6")
        assertRefused(document, signatures, channel: "canary", .channel, "for channel stable, not canary")
        let (old, oldSignatures) = try signed(release(expires: now - 7200))
        assertRefused(old, oldSignatures, .manifest, "is not after")
        let (expired, expiredSignatures) = try signed(release(expires: now))
        assertRefused(expired, expiredSignatures, .expired, "expired at")
        let (stranger, strangerSignatures) = try signed(release(), by: other)
        assertRefused(stranger, strangerSignatures, .signature, "untrusted")
        var altered = document
        altered[altered.firstIndex(of: UInt8(ascii: "5"))!] = UInt8(ascii: "9")  // the number
        assertRefused(altered, signatures, .signature, "does not match")
        assertRefused(document, [], .signature, "no signature")
    }

    func testReleaseJSONIsStrict() throws {
        func refused(_ edit: (inout [String: Any]) -> Void, _ fragment: String, line: UInt = #line) throws {
            var object = try JSONSerialization.jsonObject(with: Data(release().bytes)) as! [String: Any]
            edit(&object)
            XCTAssertThrowsError(try ReleaseManifest(parsing: [UInt8](try JSONSerialization.data(withJSONObject: object))), line: line) {
                XCTAssertTrue("\($0)".contains(fragment), "\($0) lacks \(fragment)", line: line)
            }
        }
        try refused({ $0["number"] = 0 }, "positive integer")
        try refused({ $0["channel"] = "-x" }, "not a valid channel")
        try refused({ $0["extra"] = true }, "unknown field")
        try refused({ $0.removeValue(forKey: "expires") }, "missing field 'expires'")
        try refused({ $0["bundles"] = ["Bad Name": ["version": "1.0.0", "manifest": "sha256:" + String(repeating: "0", count: 64)]] }, "bundle name")
        try refused({ $0["bundles"] = ["ok": ["version": "1.0.0", "manifest": "sha256:12"]] }, "not a sha256 digest")
    }
}
