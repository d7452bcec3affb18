import GGUF
import XCTest

/// Hostile or damaged headers: magic, version, counts, truncation.
final class GGUFCorruptHeaderTests: XCTestCase {
    /// A small valid file with a bit of everything, for truncating and patching.
    static var small: GGUFTestWriter {
        var writer = GGUFTestWriter(
            metadata: [
                ("general.architecture", .string("llama")),
                ("llama.block_count", .uint32(2)),
                ("tokenizer.ggml.tokens", .array(.strings(["<s>", "</s>", "a"]))),
                ("tokenizer.ggml.scores", .array(.float32s([0, 0, -1]))),
                ("nested", .array(.arrays([.uint8s([1]), .bools([true])]))),
            ],
            tensors: [TestTensor("a.weight", .f32, [8, 2]), TestTensor("b.weight", .q8_0, [32, 1])])
        writer.align(to: 16)
        return writer
    }

    func testTheSmallFileIsValid() throws {
        let file = try GGUFFile(bytes: Self.small.build())
        XCTAssertEqual(file.tensors.count, 2)
        XCTAssertEqual(file.metadata.count, 6)
    }

    func testBadMagic() {
        var writer = Self.small
        writer.magic = Array("GGML".utf8)
        assertRejects(writer.build(), field: "magic", message: "expected \"GGUF\", found \"GGML\"", offset: 0)
        assertRejects([0x47, 0x47], field: "magic", message: "too short", offset: 0)
        assertRejects([], field: "magic", message: "file is 0 bytes", offset: 0)
        assertRejects([0, 1, 0xFF, 0x47, 0, 0, 0, 0], field: "magic", message: "found \"???G\"")
    }

    func testVersionOneIsRejectedClearly() {
        var writer = Self.small
        writer.version = 1
        assertRejects(writer.build(), field: "version", message: "GGUF version 1 is no longer supported", offset: 4)
    }

    func testVersionFourAndZeroAreRejected() {
        for version: UInt32 in [0, 4, 0xFFFF_FFFF] {
            var writer = Self.small
            writer.version = version
            assertRejects(writer.build(), field: "version", message: "unsupported GGUF version \(version)", offset: 4)
        }
    }

    func testBigEndianFileIsNamedAsSuch() {
        var writer = Self.small
        writer.version = 0x0300_0000
        assertRejects(writer.build(), field: "version", message: "big-endian", offset: 4)
    }

    func testEveryTruncationOfAValidFileIsRejected() {
        let bytes = Self.small.build()
        for length in 0..<bytes.count {
            let prefix = Array(bytes[0..<length])
            do {
                _ = try GGUFFile(bytes: prefix)
                XCTFail("a file cut to \(length) of \(bytes.count) bytes parsed")
            } catch {
                XCTAssertTrue((0...length).contains(error.offset), "cut at \(length): \(error)")
                XCTAssertFalse(error.field.isEmpty)
                XCTAssertTrue(error.description.hasPrefix("GGUF: \(error.field) [offset \(error.offset)]: "), "\(error)")
            }
        }
    }

    func testTruncationErrorsNameTheField() {
        let bytes = GGUFTestWriter(metadata: [("a", .uint64(5))]).build()
        // 4 magic + 4 version + 8 tensor count + 8 metadata count, key "a" (8 + 1), type (4), value (8).
        assertRejects(Array(bytes[0..<40]), field: "metadata 'a'", message: "needs 8 bytes but only 3 remain", offset: 37)
        assertRejects(Array(bytes[0..<10]), field: "tensor count", message: "needs 8 bytes", offset: 8)
        // A count the remaining bytes cannot hold is caught before any entry is read.
        assertRejects(Array(bytes[0..<30]), field: "metadata count", message: "count 1 needs at least 14 bytes but only 6 remain", offset: 16)
    }

    func testHugeTensorCount() {
        var writer = Self.small
        writer.tensorCountOverride = 1 << 40
        assertRejects(writer.build(), field: "tensor count", message: "1099511627776 exceeds the limit of 1048576", offset: 8)
        writer.tensorCountOverride = .max
        assertRejects(writer.build(), field: "tensor count", message: "exceeds the limit")
    }

    func testTensorCountBeyondWhatTheFileCanHold() {
        var writer = Self.small
        writer.tensorCountOverride = 100_000
        assertRejects(writer.build(), field: "tensor count", message: "count 100000 needs at least 3300000 bytes", offset: 8)
    }

    func testHugeMetadataCount() {
        var writer = Self.small
        writer.metadataCountOverride = 1 << 60
        assertRejects(writer.build(), field: "metadata count", message: "exceeds the limit of 1048576", offset: 16)
        writer.metadataCountOverride = 1 << 20
        assertRejects(writer.build(), field: "metadata count", message: "count 1048576 needs at least 14680064 bytes", offset: 16)
    }

    func testMetadataCountLargerThanTheEntries() {
        var writer = Self.small
        writer.metadataCountOverride = 7
        // The first tensor entry is read as a seventh key/value pair (n_dims 2 as type u16), and the directory
        // then starts mid-entry, with a name length made of dimension bytes.
        assertRejects(writer.build(), field: "tensor #0 name", message: "exceeds the limit of 63 bytes")
    }
}
