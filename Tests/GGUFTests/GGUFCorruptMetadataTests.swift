import GGUF
import XCTest

/// Hostile metadata: lengths and counts that lie, unknown types, duplicates, bad alignment.
final class GGUFCorruptMetadataTests: XCTestCase {
    /// A file whose only metadata entry is `key` followed by `raw` (type id and value bytes as given).
    private func file(key: String = "k", raw: [UInt8], tensors: [TestTensor] = []) -> [UInt8] {
        var writer = GGUFTestWriter(tensors: tensors)
        writer.addRaw(key, raw)
        // No padding after the header, so that "bytes remain" in messages counts only what the test wrote.
        if tensors.isEmpty { writer.alignment = 1 }
        return writer.build()
    }

    private func bytes(_ build: (inout ByteWriter) -> Void) -> [UInt8] {
        var writer = ByteWriter()
        build(&writer)
        return writer.bytes
    }

    /// Where the value of the single entry written by `file(key: "k", ...)` starts: header, key length, key.
    private let valueStart = 24 + 8 + 1

    func testStringLengthPastTheEnd() {
        let raw = bytes { $0.u32(8); $0.u64(1000); $0.raw(Array("short".utf8)) }
        assertRejects(file(raw: raw), field: "metadata 'k'", message: "length 1000 runs past the end of the file", offset: valueStart + 4)
    }

    func testStringLengthTwoToTheSixtyThird() {
        let raw = bytes { $0.u32(8); $0.u64(1 << 63) }
        assertRejects(file(raw: raw), field: "metadata 'k'", message: "length 9223372036854775808 exceeds the limit", offset: valueStart + 4)
        let all = bytes { $0.u32(8); $0.u64(.max) }
        assertRejects(file(raw: all), field: "metadata 'k'", message: "exceeds the limit")
    }

    func testKeyLengthPastTheEnd() {
        var writer = ByteWriter()
        writer.raw(Array("GGUF".utf8)); writer.u32(3); writer.u64(0); writer.u64(1)
        writer.u64(1 << 62)
        writer.raw([UInt8](repeating: 0, count: 16))
        assertRejects(writer.bytes, field: "metadata #0 key", message: "exceeds the limit of 65536 bytes", offset: 24)
    }

    func testArrayCountWhoseByteSizeOverflows() {
        // 2^61 eight-byte elements: 2^64 bytes, which wraps to 0 in 64-bit arithmetic.
        let raw = bytes { $0.u32(9); $0.u32(GGUFValueType.uint64.rawValue); $0.u64(1 << 61) }
        assertRejects(file(raw: raw), field: "metadata 'k' array count", message: "2305843009213693952 elements exceed the limit", offset: valueStart + 8)
        let strings = bytes { $0.u32(9); $0.u32(GGUFValueType.string.rawValue); $0.u64(.max) }
        assertRejects(file(raw: strings), field: "metadata 'k' array count", message: "exceed the limit")
    }

    func testArrayCountBeyondTheBytesLeft() {
        let raw = bytes { $0.u32(9); $0.u32(GGUFValueType.float32.rawValue); $0.u64(1000); $0.u32(0) }
        assertRejects(file(raw: raw), field: "metadata 'k' array count", message: "count 1000 needs at least 4000 bytes but only 4 remain")
        let strings = bytes { $0.u32(9); $0.u32(GGUFValueType.string.rawValue); $0.u64(100); $0.u64(0) }
        assertRejects(file(raw: strings), field: "metadata 'k' array count", message: "count 100 needs at least 800 bytes")
    }

    func testStringInsideAnArrayPastTheEnd() {
        let raw = bytes { $0.u32(9); $0.u32(8); $0.u64(2); $0.string("ok"); $0.u64(50); $0.u64(0); $0.u64(0) }
        assertRejects(file(raw: raw), field: "metadata 'k' element 1", message: "length 50 runs past the end")
    }

    func testUnknownValueType() {
        let raw = bytes { $0.u32(13); $0.u32(0) }
        assertRejects(file(raw: raw), field: "metadata 'k' type", message: "unknown value type id 13", offset: valueStart)
        let huge = bytes { $0.u32(0xFFFF_FFFF); $0.u8(0) }
        assertRejects(file(raw: huge), field: "metadata 'k' type", message: "unknown value type id 4294967295")
    }

    func testUnknownArrayElementType() {
        let raw = bytes { $0.u32(9); $0.u32(77); $0.u64(0) }
        assertRejects(file(raw: raw), field: "metadata 'k' array element type", message: "unknown value type id 77", offset: valueStart + 4)
    }

    func testArraysNestedThreeDeep() {
        let raw = bytes { $0.u32(9); $0.u32(9); $0.u64(1); $0.u32(9); $0.u64(1); $0.u32(0); $0.u64(0) }
        assertRejects(file(raw: raw), field: "metadata 'k' element 0 array element type", message: "nested more than 2 levels")
    }

    func testBoolOtherThanZeroOrOne() {
        assertRejects(file(raw: [7, 0, 0, 0, 2]), field: "metadata 'k'", message: "bool byte is 2", offset: valueStart + 4)
        let array = bytes { $0.u32(9); $0.u32(7); $0.u64(3); $0.raw([1, 0, 0xFF]) }
        assertRejects(file(raw: array), field: "metadata 'k' element 2", message: "bool byte is 255")
    }

    func testDuplicateKey() {
        var writer = GGUFTestWriter(metadata: [("a", .uint8(1)), ("b", .uint8(2)), ("a", .string("again"))])
        writer.tensors = []
        assertRejects(writer.build(), field: "metadata 'a'", message: "duplicate key (first defined by metadata entry #0)")
    }

    func testEmptyKeyAndInvalidUTF8Key() {
        var empty = GGUFTestWriter()
        empty.addRaw("", [0, 0, 0, 0, 1])
        assertRejects(empty.build(), field: "metadata #0 key", message: "key is empty", offset: 24)

        var writer = ByteWriter()
        writer.raw(Array("GGUF".utf8)); writer.u32(3); writer.u64(0); writer.u64(1)
        writer.raw([0x6B, 0xC3], lengthPrefixed: true)
        writer.u32(0); writer.u8(1)
        assertRejects(writer.bytes, field: "metadata #0 key", message: "not valid UTF-8", offset: 24)
    }

    func testAlignmentNotAPowerOfTwo() {
        for alignment: UInt32 in [0, 3, 48, 0xFFFF_FFFF] {
            let writer = GGUFTestWriter(metadata: [("general.alignment", .uint32(alignment))])
            assertRejects(writer.build(), field: "metadata 'general.alignment'", message: "alignment \(alignment) is not a non-zero power of two", offset: 24)
        }
    }

    func testAlignmentOfTheWrongType() {
        for value: GGUFValue in [.uint64(32), .int32(32), .string("32"), .array(.uint32s([32]))] {
            let writer = GGUFTestWriter(metadata: [("general.alignment", value)])
            assertRejects(writer.build(), field: "metadata 'general.alignment'", message: "must be a u32, found \(value.typeName)", offset: 24)
        }
    }

    func testErrorDescriptionNamesFieldAndOffset() {
        let raw = bytes { $0.u32(8); $0.u64(1000) }
        let error = assertRejects(file(raw: raw), field: "metadata 'k'", message: "runs past")
        XCTAssertEqual(
            error?.description,
            "GGUF: metadata 'k' [offset 37]: length 1000 runs past the end of the file (0 bytes remain)")
    }
}
