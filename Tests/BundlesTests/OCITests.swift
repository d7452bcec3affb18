// The OCI documents a bundle is made of, read strictly: what the image spec requires, bounded counts and sizes,
// digests in their one accepted form; and what we write reads back.
import XCTest

@testable import Bundles

final class OCITests: XCTestCase {
    let digest = "sha256:" + String(repeating: "ab", count: 32)

    func manifestText(schema: String = "2", artifact: String = "\"application/vnd.outpost.bundle.v1+json\"",
                      configDigest: String? = nil, size: String = "10", layers: String? = nil) -> [UInt8] {
        let d = configDigest ?? digest
        return Array("""
            {"schemaVersion":\(schema),"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":\(artifact),
             "config":{"mediaType":"application/vnd.outpost.bundle.manifest.v1+json","digest":"\(d)","size":\(size)},
             "layers":\(layers ?? "[{\"mediaType\":\"application/vnd.outpost.model.gguf\",\"digest\":\"\(digest)\",\"size\":5}]")}
            """.utf8)
    }

    func refused(_ bytes: [UInt8], _ fragment: String, line: UInt = #line) {
        XCTAssertThrowsError(try OCIManifest(parsing: bytes), line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks '\(fragment)'", line: line)
        }
    }

    func testAManifestReadsAndWhatWeWriteReadsBack() throws {
        let manifest = try OCIManifest(parsing: manifestText())
        XCTAssertEqual(manifest.artifactType, MediaType.bundle)
        XCTAssertEqual(manifest.config.digest.description, digest)
        XCTAssertEqual(manifest.layers.count, 1)
        XCTAssertEqual(try OCIManifest(parsing: manifest.bytes), manifest)
        let index = OCIIndex(manifests: [OCIDescriptor(mediaType: MediaType.imageManifest, digest: manifest.config.digest, size: 3,
                                                       artifactType: MediaType.bundle, annotations: ["org.opencontainers.image.ref.name": "1.0.0"])])
        XCTAssertEqual(try OCIIndex(parsing: index.bytes), index)
        XCTAssertNoThrow(try OCILayout.check(OCILayout.fileBytes))
    }

    func testDigestsHaveOneForm() {
        XCTAssertNotNil(Digest(digest))
        for text in ["sha256:" + String(repeating: "AB", count: 32), "sha512:" + String(repeating: "ab", count: 32),
                     "sha256:" + String(repeating: "ab", count: 31), "sha256:" + String(repeating: "ab", count: 33),
                     "sha256:../../../../etc/passwd" + String(repeating: "a", count: 37), String(repeating: "ab", count: 32), "sha256:"] {
            XCTAssertNil(Digest(text), text)
        }
        XCTAssertEqual(Digest(sha256: [0x00, 0x0f, 0xf0, 0xff] + [UInt8](repeating: 0, count: 28)).hex.prefix(8), "000ff0ff")
    }

    func testHostileManifests() {
        refused(manifestText(schema: "1"), "schemaVersion must be 2")
        refused(manifestText(schema: "\"2\""), "schemaVersion")
        refused(manifestText(configDigest: "sha256:1234"), "not a sha256 digest")
        refused(manifestText(size: "-1"), "non-negative")
        refused(manifestText(size: "1.5"), "whole number")
        refused(manifestText(size: "1e400"), "size")
        refused(manifestText(layers: "{}"), "expected an array")
        refused(manifestText(layers: "[" + Array(repeating: "{\"mediaType\":\"x\",\"digest\":\"\(digest)\",\"size\":1}", count: 65).joined(separator: ",") + "]"), "more than 64 layers")
        refused(manifestText(layers: "[{\"mediaType\":\"x\",\"digest\":\"\(digest)\"}]"), "size")
        refused(Array("{\"schemaVersion\":2,\"layers\":[]}".utf8), "missing field 'config'")
        refused(Array("[1,2]".utf8), "must be a JSON object")
        refused(Array("{\"schemaVersion\":2,\"schemaVersion\":2}".utf8), "duplicate")
        refused([UInt8](repeating: 0x20, count: OCIManifest.maxBytes + 1), "more than")
        refused(Array(String(repeating: "[", count: 100_000).utf8), "deep")
        var annotations = manifestText()
        annotations.removeLast()
        annotations += Array(",\"annotations\":{\"a\":1}}".utf8)
        refused(annotations, "expected a string")
    }

    func testHostileIndexes() {
        func index(_ text: String) -> [UInt8] { Array(text.utf8) }
        XCTAssertThrowsError(try OCIIndex(parsing: index("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\",\"manifests\":[]}"))) {
            XCTAssertTrue("\($0)".contains("expected application/vnd.oci.image.index.v1+json"), "\($0)")
        }
        XCTAssertThrowsError(try OCIIndex(parsing: index("{\"schemaVersion\":2}"))) { XCTAssertTrue("\($0)".contains("manifests"), "\($0)") }
        XCTAssertThrowsError(try OCILayout.check(Array("{\"imageLayoutVersion\":\"2.0.0\"}".utf8))) { XCTAssertTrue("\($0)".contains("not 1.0.0")) }
    }
}
