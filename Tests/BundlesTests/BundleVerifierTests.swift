// Bundles made, signed and verified in memory-sized form (a few KiB stand in for the model), then attacked as the
// bundle issue lists: every hostile case must fail the check it is aimed at, with its own message.
import Foundation
import Platform
import Sodium
import TestKit
import XCTest

@testable import Bundles

final class BundleVerifierTests: XCTestCase {
    var directory: TemporaryDirectory!
    var model: [UInt8] = []
    var keys: [MinisignSecretKey] = []
    let now: Int64 = 1_796_700_000  // 2026-12-08

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "bundle")
        var random = SplitMix64(seed: 7)
        model = (0..<70_000).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        try directory.write("model.gguf", model)
        keys = try (0..<3).map { _ in try MinisignSecretKey.generate() }
    }

    override func tearDown() {
        directory.remove()
    }

    func template(name: String = "support-bot", version: String = "1.4.0", expires: String? = nil,
                  minAgent: String = "0.1.0") -> BundleManifest {
        BundleManifest(
            name: name, version: SemanticVersion(version)!, created: UTCTimestamp.format(wholeSeconds: now - 86_400),
            expires: expires, minAgentVersion: SemanticVersion(minAgent)!,
            model: .init(file: "model.gguf", size: 0, sha256: String(repeating: "0", count: 64), architecture: "llama"),
            serving: .init(context: 2048, chatTemplate: "chatml"),
            smokeTest: .init(prompt: "Hello", maxTokens: 4, expected: " world", producedBy: "0.1.0"))
    }

    /// A bundle at `name`, signed by `signers` (indices into `keys`).
    @discardableResult
    func make(_ name: String = "b", signers: [Int] = [0], manifest: BundleManifest? = nil) throws -> String {
        let path = directory.path(name)
        let written = try BundleBuilder.create(modelPath: directory.path("model.gguf"), manifest: manifest ?? template(), output: path)
        for signer in signers {
            let text = try MinisignSignature.sign(written.bytes, with: keys[signer], trustedComment: "bundle:\(written.name)@\(written.version)")
            try BundleBuilder.attach(signature: Array(text.utf8), to: path)
        }
        return path
    }

    func trusted(_ indices: [Int]) throws -> TrustedKeys {
        try TrustedKeys(indices.map { (keys[$0].publicKey, "key\($0).pub") })
    }

    func verify(_ path: String, trust: [Int] = [0], threshold: Int = 1, at time: Int64? = nil,
                agent: String = "0.1.0") throws -> VerifiedBundle {
        let verifier = BundleVerifier(trusted: try trusted(trust), threshold: threshold, now: time ?? now, agentVersion: SemanticVersion(agent)!)
        return try verifier.verify(try BundleReader(path: path))
    }

    /// Asserts that verification fails at `check` with a message containing `fragment`.
    func assertFails(_ path: String, _ check: BundleError.Check, _ fragment: String, trust: [Int] = [0], threshold: Int = 1,
                     at time: Int64? = nil, agent: String = "0.1.0", file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try verify(path, trust: trust, threshold: threshold, at: time, agent: agent), file: file, line: line) { error in
            guard let error = error as? BundleError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(error.check, check, "\(error)", file: file, line: line)
            XCTAssertTrue(error.message.contains(fragment), "'\(error.message)' lacks '\(fragment)'", file: file, line: line)
        }
    }

    // MARK: - Editing a directory bundle behind the tools' back, keeping every digest consistent

    func read(_ path: String, _ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))) }
    func write(_ path: String, _ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: URL(fileURLWithPath: path + "/" + name)) }

    func index(_ path: String) throws -> OCIIndex { try OCIIndex(parsing: try read(path, "index.json")) }

    func manifest(_ path: String) throws -> OCIManifest {
        try OCIManifest(parsing: try read(path, try index(path).manifests[0].digest.blobPath))
    }

    @discardableResult
    func putBlob(_ path: String, _ bytes: [UInt8]) throws -> OCIDescriptor {
        let digest = try Digest.of(bytes)
        try write(path, digest.blobPath, bytes)
        return OCIDescriptor(mediaType: "", digest: digest, size: Int64(bytes.count))
    }

    /// Replaces the OCI manifest (and index.json with it).
    func setManifest(_ path: String, _ manifest: OCIManifest) throws {
        let blob = try putBlob(path, manifest.bytes)
        var index = try index(path)
        index.manifests[0].digest = blob.digest
        index.manifests[0].size = blob.size
        try write(path, "index.json", index.bytes)
    }

    /// Replaces bundle.json's bytes, with the config descriptor updated to match (signatures untouched).
    func setBundleJSON(_ path: String, _ bytes: [UInt8]) throws {
        var oci = try manifest(path)
        let blob = try putBlob(path, bytes)
        oci.config.digest = blob.digest
        oci.config.size = blob.size
        try setManifest(path, oci)
    }

    /// Replaces signature `index`'s bytes, descriptor updated to match.
    func setSignature(_ path: String, _ index: Int, _ bytes: [UInt8]) throws {
        var oci = try manifest(path)
        let signatureLayers = oci.layers.indices.filter { oci.layers[$0].mediaType == MediaType.signature }
        let blob = try putBlob(path, bytes)
        oci.layers[signatureLayers[index]].digest = blob.digest
        oci.layers[signatureLayers[index]].size = blob.size
        try setManifest(path, oci)
    }

    func signature(_ path: String, _ index: Int) throws -> [UInt8] {
        let oci = try manifest(path)
        return try read(path, oci.layers.filter { $0.mediaType == MediaType.signature }[index].digest.blobPath)
    }

    func modelPath(_ path: String) -> String { path + "/blobs/sha256/" + (try! Digest.of(model)).hex }

    // MARK: - Good bundles

    func testADirectoryBundleVerifies() throws {
        let path = try make()
        let result = try verify(path)
        XCTAssertEqual(result.manifest.name, "support-bot")
        XCTAssertEqual(result.manifest.model.sha256, try Digest.of(model).hex)
        XCTAssertEqual(result.manifest.model.size, Int64(model.count))
        XCTAssertEqual(result.keyIDs, [Minisign.keyIDText(keys[0].keyID)])
        // The layout is what the issue fixes: one manifest, config = bundle.json, layers = model then signatures.
        let oci = try manifest(path)
        XCTAssertEqual(oci.artifactType, MediaType.bundle)
        XCTAssertEqual(oci.config.mediaType, MediaType.bundleManifest)
        XCTAssertEqual(oci.layers.map(\.mediaType), [MediaType.model, MediaType.signature])
        XCTAssertEqual(try read(path, "oci-layout"), OCILayout.fileBytes)
        // Signing replaced the manifest; the old one is gone, nothing else lies around.
        XCTAssertEqual(try FileSystem.listDirectory(path + "/blobs/sha256").count, 4)
        XCTAssertEqual(try FileSystem.listDirectory(path), ["blobs", "index.json", "oci-layout"])
    }

    func testATarBundleVerifiesAndMatchesTheDirectory() throws {
        let path = try make("b.tar", signers: [0, 1])
        let result = try verify(path, trust: [0, 1], threshold: 2)
        XCTAssertEqual(result.keyIDs, [keys[0], keys[1]].map { Minisign.keyIDText($0.keyID) }.sorted())
        let reader = try BundleReader(path: path)
        XCTAssertEqual(reader.format, .tar)
        XCTAssertEqual(try reader.read((try Digest.of(model)).blobPath, limit: 1 << 20), model)
        XCTAssertEqual(try reader.fileNames().count, 7)  // layout, index, manifest, bundle.json, model, 2 signatures
    }

    func testNothingIsLeftBehindWhenCreateFails() throws {
        try make("b")
        XCTAssertThrowsError(try make("b"))  // exists
        XCTAssertThrowsError(try BundleBuilder.create(modelPath: directory.path("missing.gguf"), manifest: template(), output: directory.path("c.tar")))
        XCTAssertEqual(try FileSystem.listDirectory(directory.root).sorted(), ["b", "model.gguf"])
    }

    func testASecondSignatureByTheSameKeyIsRefused() throws {
        let path = try make()
        let again = try MinisignSignature.sign(try BundleContents(try BundleReader(path: path)).bundleJSON, with: keys[0], trustedComment: "again")
        XCTAssertThrowsError(try BundleBuilder.attach(signature: Array(again.utf8), to: path)) { error in
            XCTAssertTrue("\(error)".contains("already signed by key"), "\(error)")
        }
    }

    func testUnsignedBundlesAreRefused() throws {
        assertFails(try make(signers: []), .signatureFormat, "no signature")
    }

    // MARK: - The hostile list

    func testFlippedByteInTheModel() throws {
        let path = try make()
        var bytes = try read(path, "blobs/sha256/" + (try Digest.of(model)).hex)
        bytes[50_000] ^= 1
        try write(path, "blobs/sha256/" + (try Digest.of(model)).hex, bytes)
        assertFails(path, .model, "SHA-256")
    }

    func testModelLargerOrSmallerThanDeclared() throws {
        let path = try make()
        try write(path, "blobs/sha256/" + (try Digest.of(model)).hex, model + [0])
        assertFails(path, .model, "holds \(model.count + 1) bytes")
        try write(path, "blobs/sha256/" + (try Digest.of(model)).hex, Array(model.dropLast()))
        assertFails(path, .model, "holds \(model.count - 1) bytes")
    }

    func testSmallBlobsLargerOrSmallerThanDeclared() throws {
        let path = try make()
        let oci = try manifest(path)
        let signatureBlob = oci.layers[1].digest.blobPath
        let original = try read(path, signatureBlob)
        try write(path, signatureBlob, original + Array("x".utf8))
        assertFails(path, .layout, "holds \(original.count + 1) bytes where its descriptor says \(original.count)")
        try write(path, signatureBlob, Array(original.dropLast()))
        assertFails(path, .layout, "holds \(original.count - 1) bytes where its descriptor says \(original.count)")
        // A descriptor claiming a huge bundle.json is refused before anything is read.
        var huge = oci
        huge.config.size = 1 << 40
        try setManifest(path, huge)
        assertFails(path, .layout, "more than \(BundleManifest.maxBytes)")
    }

    func testFlippedByteInBundleJSON() throws {
        let path = try make()
        let oci = try manifest(path)
        var bytes = try read(path, oci.config.digest.blobPath)
        let at = bytes.firstIndex(of: UInt8(ascii: "1"))!  // in "1.4.0"
        bytes[at] = UInt8(ascii: "9")
        // In place: the OCI descriptor no longer matches.
        try write(path, oci.config.digest.blobPath, bytes)
        assertFails(path, .layout, "does not match its digest")
        // Descriptors rewritten to match: only the signature stands in the way.
        try setBundleJSON(path, bytes)
        assertFails(path, .signature, "does not match the content")
    }

    func testFlippedByteInASignature() throws {
        let path = try make()
        var text = String(decoding: try signature(path, 0), as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var raw = [UInt8](Data(base64Encoded: text[1])!)
        raw[20] ^= 0x40  // inside the Ed25519 signature
        text[1] = Data(raw).base64EncodedString()
        try setSignature(path, 0, Array(text.joined(separator: "\n").utf8))
        assertFails(path, .signature, "does not match the content")
    }

    func testFlippedByteInTheTrustedComment() throws {
        let path = try make()
        let text = String(decoding: try signature(path, 0), as: UTF8.self)
        try setSignature(path, 0, Array(text.replacingOccurrences(of: "support-bot@1.4.0", with: "support-bot@1.5.0").utf8))
        assertFails(path, .signature, "trusted comment")
    }

    func testSignatureByAnUntrustedKey() throws {
        assertFails(try make(signers: [2]), .trustedKey, Minisign.keyIDText(keys[2].keyID))
    }

    func testUntrustedSignaturesBesideATrustedOneAreIgnored() throws {
        XCTAssertEqual(try verify(try make(signers: [2, 0])).keyIDs, [Minisign.keyIDText(keys[0].keyID)])
    }

    func testASignatureOfAnotherBundlesManifest() throws {
        let path = try make()
        let other = try make("other", manifest: template(version: "9.9.9"))
        try setSignature(path, 0, try signature(other, 0))
        assertFails(path, .signature, "does not match the content")
    }

    func testIndexNamingAMissingManifest() throws {
        let path = try make()
        var index = try index(path)
        index.manifests[0].digest = try Digest.of(Array("nothing".utf8))
        try write(path, "index.json", index.bytes)
        assertFails(path, .layout, "missing from the bundle")
    }

    func testManifestLayersThatAreNotTheOnesBundleJSONLists() throws {
        let path = try make()
        // The model layer swapped for another blob (a different model).
        var oci = try manifest(path)
        var other = model
        other[0] ^= 1
        let blob = try putBlob(path, other)
        oci.layers[0].digest = blob.digest
        try setManifest(path, oci)
        assertFails(path, .layers, "is not the model bundle.json lists")
        // An extra layer of a type a bundle does not have.
        oci = try manifest(try make("b2"))
        oci.layers.append(OCIDescriptor(mediaType: "application/vnd.oci.image.layer.v1.tar", digest: blob.digest, size: blob.size))
        try setManifest(directory.path("b2"), oci)
        assertFails(directory.path("b2"), .layout, "unknown media type")
        // Two model layers.
        oci = try manifest(try make("b3"))
        oci.layers.append(oci.layers[0])
        try setManifest(directory.path("b3"), oci)
        assertFails(directory.path("b3"), .layout, "2 model layers")
    }

    func testExpiredBundle() throws {
        let path = try make(manifest: template(expires: UTCTimestamp.format(wholeSeconds: now + 3600)))
        XCTAssertNoThrow(try verify(path))
        assertFails(path, .expiry, "expired at", at: now + 3600)
    }

    func testBundleNeedingANewerAgent() throws {
        let path = try make(manifest: template(minAgent: "2.0.0"))
        assertFails(path, .agentVersion, "needs Outpost 2.0.0", agent: "1.9.9")
        XCTAssertNoThrow(try verify(path, agent: "2.0.0"))
    }

    func testANewerFormatSaysItNeedsANewerAgent() throws {
        let path = try make(signers: [])
        var object = try JSONSerialization.jsonObject(with: Data(try BundleContents(try BundleReader(path: path)).bundleJSON)) as! [String: Any]
        object["min_agent_version"] = "3.0.0"
        object["quantum_weights"] = true
        let bytes = [UInt8](try JSONSerialization.data(withJSONObject: object))
        try setBundleJSON(path, bytes)
        let text = try MinisignSignature.sign(bytes, with: keys[0], trustedComment: "future")
        try BundleBuilder.attach(signature: Array(text.utf8), to: path)
        assertFails(path, .agentVersion, "needs Outpost 3.0.0")
        XCTAssertThrowsError(try verify(path, agent: "3.0.0")) { error in
            XCTAssertEqual((error as? BundleError)?.check, .manifest)
            XCTAssertTrue("\(error)".contains("unknown field 'quantum_weights'"), "\(error)")
        }
    }

    func testTwoOfThreeWithOneValidSignatureTwice() throws {
        let path = try make(signers: [0])
        // The same valid signature attached twice (the tools refuse that; an attacker need not use them).
        var oci = try manifest(path)
        oci.layers.append(oci.layers[1])
        try setManifest(path, oci)
        assertFails(path, .threshold, "1 distinct trusted key signed; 2 required", trust: [0, 1, 2], threshold: 2)
        XCTAssertNoThrow(try verify(try make("two", signers: [0, 2]), trust: [0, 1, 2], threshold: 2))
    }

    func testSymbolicLinksInADirectoryBundleAreRefused() throws {
        let path = try make()
        let target = modelPath(path)
        try FileManager.default.moveItem(atPath: target, toPath: directory.path("elsewhere"))
        try FileManager.default.createSymbolicLink(atPath: target, withDestinationPath: directory.path("elsewhere"))
        assertFails(path, .layout, "is a symbolic link")
    }

    func testHostileTarsAreRefusedAsLayoutErrors() throws {
        let good = try make("good.tar")
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        // The first entry (oci-layout) renamed to climb out: fix its checksum so only the name is wrong.
        let name = Array("../oci-layout".utf8)
        for i in 0..<100 { bytes[i] = i < name.count ? name[i] : 0 }
        for i in 148..<156 { bytes[i] = UInt8(ascii: " ") }
        let sum = bytes[0..<512].reduce(0) { $0 + Int($1) }
        let field = Array(String(sum, radix: 8).utf8)
        for (i, b) in ([UInt8](repeating: UInt8(ascii: "0"), count: 6 - field.count) + field + [0]).enumerated() { bytes[148 + i] = b }
        let path = try directory.write("evil.tar", bytes)
        assertFails(path, .layout, "climbs out")
    }

    func testBundleJSONRoundTripsAndRefusesWhatItShould() throws {
        var manifest = template(expires: "2027-01-01T00:00:00Z")
        manifest.model.size = 1
        XCTAssertEqual(try BundleManifest(parsing: manifest.bytes), manifest)
        func refused(_ edit: (inout [String: Any]) -> Void, _ fragment: String, line: UInt = #line) throws {
            var object = try JSONSerialization.jsonObject(with: Data(manifest.bytes)) as! [String: Any]
            edit(&object)
            XCTAssertThrowsError(try BundleManifest(parsing: [UInt8](try JSONSerialization.data(withJSONObject: object))), line: line) { error in
                XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks \(fragment)", line: line)
            }
        }
        try refused({ $0["schema"] = "outpost.bundle.v2" }, "schema")
        try refused({ $0["name"] = "../etc" }, "bundle name")
        try refused({ $0["name"] = "Upper" }, "bundle name")
        try refused({ $0["version"] = "1.4" }, "MAJOR.MINOR.PATCH")
        try refused({ $0["version"] = "01.4.0" }, "MAJOR.MINOR.PATCH")
        try refused({ $0["expires"] = "2026-01-01T00:00:00Z" }, "is not after")
        try refused({ $0["created"] = "2026-02-30T00:00:00Z" }, "UTC time")
        try refused({ $0["extra"] = 1 }, "unknown field 'extra'")
        try refused({ var m = $0["model"] as! [String: Any]; m["sha256"] = "ABC"; $0["model"] = m }, "64 lower-case hex")
        try refused({ var m = $0["model"] as! [String: Any]; m["file"] = "../x.gguf"; $0["model"] = m }, "plain file name")
        try refused({ var m = $0["model"] as! [String: Any]; m["size"] = -1; $0["model"] = m }, "positive integer")
        try refused({ var s = $0["smoke_test"] as! [String: Any]; s["max_tokens"] = 100_000; $0["smoke_test"] = s }, "max_tokens")
        try refused({ $0.removeValue(forKey: "smoke_test") }, "missing field 'smoke_test'")
    }
}
