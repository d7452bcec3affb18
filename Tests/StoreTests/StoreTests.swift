// The store against what the issue demands of it: the key file's forms, a sealed format whose chunks cannot be
// altered, reordered, truncated, extended or moved between files, a wrong key refused with nothing changed,
// nothing in the store that reveals the model, a crash between writing a blob and the catalog cleaned up, and
// install, activate, load, rollback, remove and prune.
import Bundles
import Foundation
import Platform
import Sodium
import TestKit
import XCTest

@testable import Store

final class StoreTests: XCTestCase {
    var directory: TemporaryDirectory!
    var key: SecureBytes!
    let now: Int64 = 1_796_700_000

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "store")
        key = try SecureBytes(copying: Array(0..<32))
    }

    override func tearDown() {
        directory.remove()
    }

    /// The mapping's bytes, copied while the mapping is alive (it is unmapped when released).
    func contents(_ mapping: MappedFile) -> [UInt8] { withExtendedLifetime(mapping) { [UInt8](mapping.bytes) } }

    func bytes(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }
    func write(_ path: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path)) }

    // MARK: - The key

    func testKeyFileForms() throws {
        let raw = (0..<32).map { UInt8(200 &+ $0) }
        XCTAssertEqual(try StoreKey.parse(raw, path: "k").withUnsafeBytes { Array($0) }, raw)
        let hex = Array(raw.map { String(format: "%02x", $0) }.joined().utf8)
        XCTAssertEqual(try StoreKey.parse(hex, path: "k").withUnsafeBytes { Array($0) }, raw)
        XCTAssertEqual(try StoreKey.parse(hex + [10], path: "k").withUnsafeBytes { Array($0) }, raw)
        XCTAssertEqual(try StoreKey.parse(Array(String(decoding: hex, as: UTF8.self).uppercased().utf8), path: "k").withUnsafeBytes { Array($0) }, raw)
        for bad in [Array(raw.dropLast()), raw + [1], Array(hex.dropLast()), hex + [10, 10], Array(repeating: UInt8(ascii: "g"), count: 64),
                    [UInt8](repeating: 0, count: 32), []] {
            XCTAssertThrowsError(try StoreKey.parse(bad, path: "k")) { XCTAssertTrue("\($0)".contains("the store key k"), "\($0)") }
        }
        XCTAssertEqual(StoreKey.locate(keyFile: nil, credentialsDirectory: "/run/credentials/outpostd.service"),
                       "/run/credentials/outpostd.service/outpost-store.key")
        XCTAssertEqual(StoreKey.locate(keyFile: "/k", credentialsDirectory: "/run/c"), "/k")
        XCTAssertNil(StoreKey.locate(keyFile: nil, credentialsDirectory: nil))
    }

    // MARK: - The sealed format

    func seal(_ plaintext: [UInt8], _ name: String, identity: [UInt8] = Array(repeating: 7, count: 32), chunk: Int = 4096) throws -> String {
        let path = directory.path(name)
        let writer = try SealedWriter(path: path, plaintextBytes: Int64(plaintext.count), identity: identity, key: key, chunkBytes: chunk)
        // In uneven pieces, as a stream arrives.
        var offset = 0
        var step = 1
        while offset < plaintext.count {
            let end = min(plaintext.count, offset + step)
            try writer.write(Array(plaintext[offset..<end]))
            offset = end
            step = step * 3 + 1
        }
        try writer.finish()
        return path
    }

    func open(_ path: String, identity: [UInt8] = Array(repeating: 7, count: 32), key: SecureBytes? = nil, threads: Int = 3) throws -> [UInt8] {
        let reader = try SealedReader(path: path, identity: identity)
        var out = [UInt8](repeating: 0, count: Int(reader.plaintextBytes))
        try out.withUnsafeMutableBytes { try reader.decrypt(into: $0, key: key ?? self.key, threads: threads) }
        return out
    }

    func assertRefused(_ path: String, _ fragment: String, identity: [UInt8] = Array(repeating: 7, count: 32), key: SecureBytes? = nil,
                       line: UInt = #line) {
        XCTAssertThrowsError(try open(path, identity: identity, key: key), line: line) { error in
            XCTAssertTrue(fragment.isEmpty || "\(error)".contains(fragment), "\(error) lacks '\(fragment)'", line: line)
        }
    }

    func testSealedFilesRoundTrip() throws {
        var random = SplitMix64(seed: 3)
        for size in [0, 1, 4095, 4096, 4097, 3 * 4096 + 100] {
            let plaintext = (0..<size).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let path = try seal(plaintext, "f\(size)")
            for threads in [1, 2, 5] { XCTAssertEqual(try open(path, threads: threads), plaintext, "size \(size), \(threads) threads") }
            let chunks = max(1, (size + 4095) / 4096)
            XCTAssertEqual(try bytes(path).count, SealedFile.headerBytes + size + 16 * chunks)
        }
    }

    func testSealedFilesRefuseEveryAlteration() throws {
        var random = SplitMix64(seed: 4)
        let plaintext = (0..<(3 * 4096 + 100)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        let original = try bytes(try seal(plaintext, "a"))
        let path = directory.path("a")
        let chunk = 4096 + 16
        func variant(_ edit: (inout [UInt8]) -> Void, _ fragment: String, line: UInt = #line) throws {
            var copy = original
            edit(&copy)
            try write(path, copy)
            assertRefused(path, fragment, line: line)
        }
        // A flipped bit anywhere: header fields, nonce prefix, identity, ciphertext, tag.
        for offset in [9, 20, 30, 50, 72, 72 + 4095, 72 + 4096, 72 + chunk + 5, original.count - 1] {
            try variant({ $0[offset] ^= 0x01 }, offset < 72 ? "" : "fails authentication")
        }
        try variant({ $0.removeLast(16 + 100) }, "cut short or extended")
        try variant({ $0.removeLast(1) }, "cut short or extended")
        try variant({ $0.append(0) }, "cut short or extended")
        try variant({ $0.removeSubrange(0..<1) }, "")
        // Two whole chunks swapped.
        try variant({ c in
            let first = Array(c[72..<(72 + chunk)])
            let second = Array(c[(72 + chunk)..<(72 + 2 * chunk)])
            c.replaceSubrange(72..<(72 + chunk), with: second)
            c.replaceSubrange((72 + chunk)..<(72 + 2 * chunk), with: first)
        }, "chunk 0 of 4 fails authentication")
        // The last chunk dropped and the header's size edited to match: the new last chunk was not sealed as last.
        try variant({ c in
            c.removeLast(100 + 16)
            let size = UInt64(3 * 4096)
            for i in 0..<8 { c[16 + i] = UInt8(truncatingIfNeeded: size >> (8 * UInt64(i))) }
        }, "fails authentication")
        // A chunk from another file sealed with the same key, at the same place.
        let other = try bytes(try seal(plaintext, "b"))
        try variant({ $0.replaceSubrange((72 + chunk)..<(72 + 2 * chunk), with: other[(72 + chunk)..<(72 + 2 * chunk)]) }, "chunk 1 of 4 fails")
        try write(path, original)
        XCTAssertEqual(try open(path), plaintext)
        assertRefused(path, "identity mismatch", identity: Array(repeating: 8, count: 32))
        assertRefused(path, "fails authentication", key: try SecureBytes(copying: Array(repeating: 9, count: 32)))
    }

    // MARK: - The store

    var model: [UInt8] = []
    var signer: MinisignSecretKey!

    func makeBundle(_ name: String, version: String, model bytes: [UInt8]? = nil) throws -> String {
        if signer == nil { signer = try MinisignSecretKey.generate() }
        if model.isEmpty {
            var random = SplitMix64(seed: 11)
            model = Array("GGUF".utf8) + [3, 0, 0, 0] + (0..<300_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        }
        let file = try directory.write("model-\(name)-\(version).gguf", bytes ?? model)
        let template = BundleManifest(
            name: name, version: SemanticVersion(version)!, created: "2026-12-01T00:00:00Z", expires: nil, minAgentVersion: SemanticVersion(0, 1, 0),
            model: .init(file: "m.gguf", size: 0, sha256: String(repeating: "0", count: 64), architecture: "llama"),
            serving: .init(), smokeTest: .init(prompt: "Hi", maxTokens: 2, expected: " there", producedBy: "0.1.0"))
        let output = directory.path("\(name)-\(version).tar")
        let written = try BundleBuilder.create(modelPath: file, manifest: template, output: output)
        try BundleBuilder.attach(signature: Array(try MinisignSignature.sign(written.bytes, with: signer, trustedComment: "t").utf8), to: output)
        return output
    }

    var verifier: BundleVerifier {
        BundleVerifier(trusted: try! TrustedKeys([(signer.publicKey, "k.pub")]), threshold: 1, now: now, agentVersion: SemanticVersion(0, 1, 0))
    }

    func openStore() throws -> Store { try Store(stateDirectory: directory.path("state"), key: key) }

    func install(_ store: Store, _ name: String, _ version: String, model bytes: [UInt8]? = nil) throws -> VersionRecord {
        try store.install(try BundleReader(path: try makeBundle(name, version: version, model: bytes)), verifier: verifier, by: "uid 0", now: now)
    }

    func filesUnder(_ path: String) throws -> [String] {
        try FileSystem.listDirectory(path).flatMap { name -> [String] in
            let full = path + "/" + name
            return try FileSystem.linkStatus(full)?.kind == .directory ? try filesUnder(full) : [full]
        }
    }

    func testInstallActivateLoadAndRollBack() throws {
        let store = try openStore()
        let first = try install(store, "support-bot", "1.4.0")
        XCTAssertEqual(first.status, .ready)
        XCTAssertNil(store.active("support-bot"), "installing does not activate")
        try store.activate("support-bot", SemanticVersion(1, 4, 0), by: "uid 0", now: now)
        let loaded = try store.load(first, threads: 2)
        XCTAssertEqual(contents(loaded), model)
        var newer = model
        newer[100] ^= 0xff
        _ = try install(store, "support-bot", "1.5.0", model: newer)
        try store.activate("support-bot", SemanticVersion(1, 5, 0), by: "uid 1000", now: now + 60)
        XCTAssertEqual(store.active("support-bot")?.version, SemanticVersion(1, 5, 0))
        XCTAssertEqual(contents(try store.load(store.active("support-bot")!, threads: 1)), newer)
        XCTAssertEqual(store.rollbackTarget("support-bot")?.version, SemanticVersion(1, 4, 0))
        XCTAssertThrowsError(try store.install(try BundleReader(path: directory.path("support-bot-1.5.0.tar")), verifier: verifier, by: "uid 0", now: now)) { XCTAssertTrue("\($0)".contains("already installed"), "\($0)") }

        // Everything survives reopening: the catalog is on disk, sealed.
        let again = try openStore()
        XCTAssertEqual(again.catalog, store.catalog)
        XCTAssertEqual(again.versions(of: "support-bot").map(\.version), [SemanticVersion(1, 4, 0), SemanticVersion(1, 5, 0)])
        XCTAssertEqual(again.active("support-bot")?.activatedBy, "uid 1000")

        // A failed version is never active again; the previous good one is the rollback target.
        try again.markFailed("support-bot", SemanticVersion(1, 5, 0), reason: "smoke test gave other text")
        XCTAssertNil(again.active("support-bot"))
        XCTAssertThrowsError(try again.activate("support-bot", SemanticVersion(1, 5, 0), by: "uid 0", now: now)) {
            XCTAssertTrue("\($0)".contains("failed its checks"), "\($0)")
        }
        try again.activate("support-bot", SemanticVersion(1, 4, 0), by: "uid 0", now: now + 120)
        XCTAssertThrowsError(try again.remove("support-bot", SemanticVersion(1, 4, 0))) { XCTAssertTrue("\($0)".contains("is active"), "\($0)") }
        try again.remove("support-bot", SemanticVersion(1, 5, 0))
        XCTAssertEqual(try FileSystem.listDirectory(directory.path("state/store/blobs")).count, 1, "the removed version's blob is collected")
    }

    func testNothingInTheStoreRevealsTheModel() throws {
        let store = try openStore()
        let record = try install(store, "secret-model", "1.0.0")
        try store.activate("secret-model", record.version, by: "uid 0", now: now)
        // Every 4 KiB run of the model contains one of its 2 KiB blocks at a multiple of 2 KiB: look for those.
        var blocks = Set<[UInt8]>()
        for start in stride(from: 0, to: model.count - 2048, by: 2048) { blocks.insert(Array(model[start..<(start + 2048)])) }
        let prefixes = Set(blocks.map { Array($0.prefix(8)) })
        let files = try filesUnder(directory.path("state"))
        XCTAssertEqual(files.count, 3, "\(files)")  // key-check, catalog, one blob
        for file in files {
            let content = try bytes(file)
            XCTAssertFalse(content.starts(with: Array("GGUF".utf8)), file)
            XCTAssertNil(content.firstRange(of: Array("GGUF".utf8) + [3, 0, 0, 0]), file)
            XCTAssertNil(content.firstRange(of: Array("secret-model".utf8)), "\(file) names the model")
            XCTAssertNil(content.firstRange(of: Array(record.modelSHA256.utf8)), "\(file) holds the model's digest")
            if content.count >= 2048 {
                for offset in 0...(content.count - 2048) where prefixes.contains(Array(content[offset..<(offset + 8)])) {
                    XCTAssertFalse(blocks.contains(Array(content[offset..<(offset + 2048)])), "\(file) holds model bytes at \(offset)")
                }
            }
        }
    }

    func testAWrongKeyIsRefusedAndNothingChanges() throws {
        let store = try openStore()
        _ = try install(store, "m", "1.0.0")
        let before = try filesUnder(directory.path("state")).map { ($0, try bytes($0)) }
        XCTAssertThrowsError(try Store(stateDirectory: directory.path("state"), key: try SecureBytes(copying: Array(repeating: 5, count: 32)))) {
            XCTAssertTrue("\($0)".contains("does not open the store"), "\($0)")
            XCTAssertTrue("\($0)".contains("nothing was changed"), "\($0)")
        }
        let after = try filesUnder(directory.path("state")).map { ($0, try bytes($0)) }
        XCTAssertEqual(before.map(\.0), after.map(\.0))
        XCTAssertEqual(before.map(\.1), after.map(\.1))
    }

    func testACrashBetweenBlobAndCatalogIsCleanedUpAtOpen() throws {
        let store = try openStore()
        _ = try install(store, "m", "1.0.0")
        let catalogBefore = try bytes(directory.path("state/store/catalog"))
        var other = model
        other[5] ^= 1
        _ = try install(store, "m", "1.1.0", model: other)
        // As if killed after the blob's rename but before the catalog's: the old catalog, a new blob, a temp file.
        try write(directory.path("state/store/catalog"), catalogBefore)
        try write(directory.path("state/store/catalog.tmp-99999"), [1, 2, 3])
        try write(directory.path("state/store/blobs/" + String(repeating: "ab", count: 32) + ".tmp-99999"), [4])
        let reopened = try openStore()
        XCTAssertEqual(reopened.versions(of: "m").map(\.version), [SemanticVersion(1, 0, 0)])
        let files = try filesUnder(directory.path("state")).map { String($0.dropFirst(directory.path("state").count)) }.sorted()
        XCTAssertEqual(files, ["/store/blobs/" + reopened.versions(of: "m")[0].blob, "/store/catalog", "/store/key-check"])
        XCTAssertEqual(contents(try reopened.load(reopened.versions(of: "m")[0], threads: 2)), model)
    }

    func testATamperedBlobFailsToLoadNamingIt() throws {
        let store = try openStore()
        let record = try install(store, "m", "1.0.0")
        var blob = try bytes(store.blobPath(record))
        blob[200_000] ^= 0x04
        try write(store.blobPath(record), blob)
        XCTAssertThrowsError(try store.load(record, threads: 2)) { error in
            XCTAssertTrue("\(error)".contains(record.blob), "\(error)")
            XCTAssertTrue("\(error)".contains("fails authentication"), "\(error)")
        }
    }

    func testInstallVerifiesAndRefusesWithoutWriting() throws {
        let store = try openStore()
        let path = try makeBundle("m", version: "1.0.0")
        // Untrusted signer.
        let stranger = BundleVerifier(trusted: try TrustedKeys([(try MinisignSecretKey.generate().publicKey, "x.pub")]), threshold: 1, now: now,
                                      agentVersion: SemanticVersion(0, 1, 0))
        XCTAssertThrowsError(try store.install(try BundleReader(path: path), verifier: stranger, by: "uid 0", now: now)) {
            XCTAssertTrue("\($0)".contains("check 'trusted-key' failed"), "\($0)")
        }
        // Not enough space left.
        XCTAssertThrowsError(try store.install(try BundleReader(path: path), verifier: verifier, by: "uid 0", minFreeBytes: Int64.max / 2, now: now)) {
            XCTAssertTrue("\($0)".contains("not enough space"), "\($0)")
        }
        // A model altered inside the tar: found while storing, nothing kept.
        var tar = try bytes(path)
        let at = tar.firstRange(of: Array(model[1000..<1064]))!.lowerBound
        tar[at] ^= 1
        try write(path, tar)
        XCTAssertThrowsError(try store.install(try BundleReader(path: path), verifier: verifier, by: "uid 0", now: now)) {
            XCTAssertTrue("\($0)".contains("check 'model' failed"), "\($0)")
        }
        XCTAssertEqual(try FileSystem.listDirectory(directory.path("state/store/blobs")), [])
        XCTAssertTrue(store.versions().isEmpty)
    }

    /// A write that fails half-way (here the file-size limit, as a full disk would) leaves the store as it was.
    func testAWriteFailureHalfWayLeavesTheStoreAsItWas() throws {
        let store = try openStore()
        let first = try install(store, "m", "1.0.0")
        try store.activate("m", first.version, by: "uid 0", now: now)
        var other = model
        other[7] ^= 1
        let path = try makeBundle("m", version: "1.1.0", model: other)
        let catalogBefore = try bytes(directory.path("state/store/catalog"))
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        let saved = limit
        signal(SIGXFSZ, SIG_IGN)
        limit.rlim_cur = 100_000
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &limit)
        XCTAssertThrowsError(try store.install(try BundleReader(path: path), verifier: verifier, by: "uid 0", now: now)) {
            XCTAssertTrue("\($0)".contains("File too large"), "\($0)")
        }
        var restore = saved
        setrlimit(Int32(RLIMIT_FSIZE.rawValue), &restore)
        XCTAssertEqual(try bytes(directory.path("state/store/catalog")), catalogBefore)
        XCTAssertEqual(store.versions(of: "m").map(\.version), [SemanticVersion(1, 0, 0)])
        XCTAssertEqual(try FileSystem.listDirectory(directory.path("state/store/blobs")), [first.blob])
        XCTAssertEqual(contents(try openStore().load(first, threads: 2)), model)
    }

    func testPruneKeepsTheActiveAndTheNewest() throws {
        let store = try openStore()
        for (index, version) in ["1.0.0", "1.1.0", "1.2.0", "1.3.0"].enumerated() {
            var bytes = model.isEmpty ? [] : model
            if !bytes.isEmpty { bytes[10] = UInt8(index) }
            _ = try store.install(try BundleReader(path: try makeBundle("m", version: version, model: bytes.isEmpty ? nil : bytes)),
                                  verifier: verifier, by: "uid 0", now: now + Int64(index) * 10)
        }
        try store.activate("m", SemanticVersion(1, 0, 0), by: "uid 0", now: now)
        let removed = try store.prune(keep: 2)
        XCTAssertEqual(Set(removed.map(\.version)), [SemanticVersion(1, 1, 0), SemanticVersion(1, 2, 0)])
        XCTAssertEqual(store.versions(of: "m").map(\.version), [SemanticVersion(1, 0, 0), SemanticVersion(1, 3, 0)])
        XCTAssertEqual(try FileSystem.listDirectory(directory.path("state/store/blobs")).count, 2)
    }
}
