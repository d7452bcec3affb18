// minisign compatibility both ways, with Debian's `minisign` CLI as the peer: its keys and signatures read and
// verified by us, ours by it; encrypted and unencrypted secret keys; legacy signatures; every refusal named.
import Bundles
import Foundation
import Sodium
import TestKit
import XCTest

final class MinisignTests: XCTestCase {
    private var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "minisign")
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/minisign") else {
            XCTFail("/usr/bin/minisign is missing: `make test` installs Debian's minisign package")
            throw XCTSkip("no minisign")
        }
    }

    override func tearDown() { directory?.remove() }

    /// Runs minisign with `input` on stdin; returns its exit status and output.
    @discardableResult
    private func minisign(_ arguments: [String], input: String = "") throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/minisign")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory.root)
        let stdin = Pipe(), stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    private func read(_ name: String) throws -> String { try String(contentsOfFile: directory.path(name), encoding: .utf8) }
    private func write(_ name: String, _ text: String) throws { try directory.write(name, Array(text.utf8)) }

    func testTheirKeysAndSignaturesVerifyHereAndTamperingIsNamed() throws {
        XCTAssertEqual(try minisign(["-G", "-W", "-p", "k.pub", "-s", "k.key"]).0, 0)
        let message = Array("model bundle manifest\n".utf8)
        try directory.write("m", message)
        XCTAssertEqual(try minisign(["-S", "-s", "k.key", "-m", "m", "-t", "release 1.4.0"]).0, 0)
        let publicKey = try MinisignPublicKey(text: read("k.pub"))
        let signature = try MinisignSignature(text: read("m.minisig"))
        XCTAssertEqual(signature.algorithm, .prehashed)
        XCTAssertEqual(signature.trustedComment, "release 1.4.0")
        XCTAssertNoThrow(try signature.verify(message, publicKey: publicKey))
        // Our reading of their unencrypted secret key gives the same key pair.
        let secret = try MinisignSecretKey(text: read("k.key"), password: nil)
        XCTAssertEqual(secret.publicKey, publicKey)

        func refusal(_ body: () throws -> Void) -> String {
            do {
                try body()
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        XCTAssertEqual(refusal { try signature.verify(message + [0], publicKey: publicKey) },
                       "the signature does not match the content (it was altered, or signed by another key)")
        let altered = try read("m.minisig").replacingOccurrences(of: "release 1.4.0", with: "release 9.9.9")
        XCTAssertEqual(refusal { try MinisignSignature(text: altered).verify(message, publicKey: publicKey) },
                       "the trusted comment's signature does not match (the comment was altered)")
        let other = try MinisignSecretKey.generate().publicKey
        XCTAssertTrue(refusal { try signature.verify(message, publicKey: other) }.hasPrefix("signed by key "))
        XCTAssertEqual(refusal { _ = try MinisignSignature(text: "untrusted comment: x\nnot base64!\n") }, "the signature: line 2 is not base64")
    }

    func testOurSignaturesAndKeysWorkWithMinisign() throws {
        let key = try MinisignSecretKey.generate()
        try write("ours.pub", key.publicKey.text())
        let message = Array("weights".utf8)
        try directory.write("w", message)
        try write("w.minisig", try MinisignSignature.sign(message, with: key, trustedComment: "timestamp:1 file:w"))
        let (status, output) = try minisign(["-V", "-p", "ours.pub", "-m", "w"])
        XCTAssertEqual(status, 0, output)
        XCTAssertTrue(output.contains("timestamp:1 file:w"), output)
        try directory.write("w", message + [1])
        XCTAssertNotEqual(try minisign(["-V", "-p", "ours.pub", "-m", "w"]).0, 0, "minisign accepted altered content")

        // An encrypted secret key of ours (small scrypt limits for the test) signs with minisign and a password;
        // an unencrypted one without.
        try write("enc.key", try key.text(password: Array("s3cret".utf8), opsLimit: 1 << 16, memLimit: 1 << 22))
        try directory.write("w", message)
        XCTAssertEqual(try minisign(["-S", "-s", "enc.key", "-m", "w", "-t", "by minisign"], input: "s3cret\n").0, 0)
        XCTAssertNoThrow(try MinisignSignature(text: read("w.minisig")).verify(message, publicKey: key.publicKey))
        try write("plain.key", try key.text(password: nil))
        XCTAssertEqual(try minisign(["-S", "-W", "-s", "plain.key", "-m", "w"]).0, 0)
        XCTAssertNoThrow(try MinisignSignature(text: read("w.minisig")).verify(message, publicKey: key.publicKey))
        // Round trip of the encrypted file, and a wrong password named as such.
        let reread = try MinisignSecretKey(text: read("enc.key"), password: Array("s3cret".utf8))
        XCTAssertEqual(reread.publicKey, key.publicKey)
        XCTAssertThrowsError(try MinisignSecretKey(text: read("enc.key"), password: Array("nope".utf8))) {
            XCTAssertEqual("\($0)", "wrong password for the secret key")
        }
        XCTAssertThrowsError(try MinisignSecretKey(text: read("enc.key"), password: nil)) {
            XCTAssertEqual("\($0)", "the secret key is encrypted: a password is needed")
        }
    }

    func testDamagedUnencryptedKeysAreRefused() throws {
        let key = try MinisignSecretKey.generate()
        let lines = try key.text(password: nil).split(separator: "\n")
        var payload = [UInt8](Data(base64Encoded: String(lines[1]))!)
        payload[54 + 8] ^= 1  // the first byte of the seed
        func text(_ bytes: [UInt8]) -> String { "\(lines[0])\n\(Data(bytes).base64EncodedString())\n" }
        XCTAssertThrowsError(try MinisignSecretKey(text: text(payload), password: nil)) {
            XCTAssertEqual("\($0)", "the secret key is damaged (checksum mismatch)")
        }
        // Without a checksum (as minisign 0.11 writes -W keys), the seed must still make the stored public half.
        for i in (54 + 72)..<(54 + 104) { payload[i] = 0 }
        XCTAssertThrowsError(try MinisignSecretKey(text: text(payload), password: nil)) {
            XCTAssertEqual("\($0)", "the secret key is damaged (its public half does not match its seed)")
        }
    }

    func testTheirEncryptedKeyAndLegacySignatures() throws {
        // minisign's own defaults (scrypt with 1 GiB): the password arrives on stdin.
        XCTAssertEqual(try minisign(["-G", "-p", "e.pub", "-s", "e.key"], input: "pw\npw\n").0, 0)
        let secret = try MinisignSecretKey(text: read("e.key"), password: Array("pw".utf8))
        XCTAssertEqual(secret.publicKey, try MinisignPublicKey(text: read("e.pub")))
        let message = Array("legacy".utf8)
        try directory.write("l", message)
        XCTAssertEqual(try minisign(["-S", "-l", "-s", "e.key", "-m", "l"], input: "pw\n").0, 0)
        let legacy = try MinisignSignature(text: read("l.minisig"))
        XCTAssertEqual(legacy.algorithm, .legacy)
        XCTAssertNoThrow(try legacy.verify(message, publicKey: secret.publicKey))
        XCTAssertThrowsError(try legacy.verify(messageDigest: BLAKE2b.hash(message), publicKey: secret.publicKey)) {
            XCTAssertEqual("\($0)", "a legacy (unhashed) signature needs the whole message to verify")
        }
    }
}
