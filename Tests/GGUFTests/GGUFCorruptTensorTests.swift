import GGUF
import XCTest

/// Hostile tensor directories: shapes, types, offsets and ranges that lie.
final class GGUFCorruptTensorTests: XCTestCase {
    private func build(_ tensors: [TestTensor]) -> [UInt8] {
        GGUFTestWriter(metadata: [("general.architecture", .string("llama"))], tensors: tensors).build()
    }

    private func raw(_ name: String = "t", dims: [UInt64], type: UInt32 = 0, offset: UInt64? = nil) -> TestTensor {
        // Tensors with an explicit offset claim bytes the test does not write.
        TestTensor(name: name, rawDimensions: dims, typeID: type, offset: offset, omitData: offset != nil)
    }

    func testUnknownTensorType() {
        for id: UInt32 in [4, 31, 36, 42, 0xFFFF_FFFF] {
            assertRejects(build([raw("blk.0.attn_q.weight", dims: [32], type: id)]),
                          field: "tensor 'blk.0.attn_q.weight' type", message: "unknown ggml type id \(id)")
        }
    }

    func testDimensionCountZeroAndFive() {
        assertRejects(build([raw(dims: [])]), field: "tensor 't' dimension count", message: "0 dimensions; ggml tensors have 1 to 4")
        assertRejects(build([raw(dims: [1, 1, 1, 1, 1])]), field: "tensor 't' dimension count", message: "5 dimensions")
    }

    func testZeroDimension() {
        assertRejects(build([raw(dims: [4, 0, 2])]), field: "tensor 't' dimension 1", message: "0 elements; a dimension must be between 1 and")
    }

    func testDimensionAboveInt64Max() {
        assertRejects(build([raw(dims: [1 << 63])]), field: "tensor 't' dimension 0", message: "9223372036854775808 elements")
    }

    func testDimensionsWhoseProductOverflows() {
        assertRejects(build([raw(dims: [1 << 32, 1 << 32])]), field: "tensor 't' dimension 1", message: "element count of shape [4294967296, 4294967296] does not fit")
        assertRejects(build([raw(dims: [1 << 20, 1 << 20, 1 << 20, 1 << 20])]), field: "tensor 't' dimension 3", message: "does not fit")
    }

    func testByteSizeThatOverflows() {
        // 2^61 elements fit in Int, but 2^61 four-byte floats do not.
        assertRejects(build([raw(dims: [1 << 40, 1 << 21])]), field: "tensor 't' type", message: "size in bytes of F32 [1099511627776, 2097152] does not fit")
        assertRejects(build([raw(dims: [1 << 62])]), field: "tensor 't' type", message: "does not fit")
    }

    func testRowLengthNotAMultipleOfTheBlockSize() {
        assertRejects(build([raw(dims: [640, 4], type: GGMLType.q4_K.rawValue)]), field: "tensor 't' type",
                      message: "row length 640 is not a multiple of Q4_K's block size 256")
    }

    func testOffsetNotAligned() {
        assertRejects(build([raw(dims: [8], offset: 17)]), field: "tensor 't' offset", message: "offset 17 is not a multiple of the alignment 32")
        var writer = GGUFTestWriter(tensors: [raw(dims: [8], offset: 64)])
        writer.align(to: 128)
        assertRejects(writer.build(), field: "tensor 't' offset", message: "offset 64 is not a multiple of the alignment 128")
    }

    func testRangePastTheEnd() throws {
        let tensors = [
            TestTensor("a", .f32, [8]),
            TestTensor(name: "blk.0.attn_q.weight", rawDimensions: [64], typeID: 0, offset: 32, omitData: true),
        ]
        let bytes = build(tensors)
        let file = GGUFTestWriter(metadata: [("general.architecture", .string("llama"))], tensors: tensors)
        let dataOffset = file.header().count
        let error = assertRejects(bytes, field: "tensor 'blk.0.attn_q.weight' data", message: "lies past the end of the file")
        // The error points at the tensor's offset field, the last 8 bytes of the directory before padding.
        let offsetField = try XCTUnwrap(error).offset
        XCTAssertEqual(bytes[offsetField], 32)
        XCTAssertEqual(
            error?.description,
            "GGUF: tensor 'blk.0.attn_q.weight' data [offset \(offsetField)]: range \(dataOffset + 32)..<\(dataOffset + 288) "
                + "lies past the end of the file (\(bytes.count) bytes)")
    }

    func testOffsetsThatOverflowTheAddress() {
        assertRejects(build([raw(dims: [8], offset: UInt64(Int.max) - 31)]), field: "tensor 't' data", message: "lies past the end")
        assertRejects(build([raw(dims: [8], offset: 1 << 63)]), field: "tensor 't' data", message: "offset 9223372036854775808 lies past the end")
    }

    func testTensorOneBytePastTheEnd() {
        var bytes = build([TestTensor("a", .f32, [8])])
        bytes.removeLast()
        assertRejects(bytes, field: "tensor 'a' data", message: "lies past the end")
    }

    func testOverlappingTensors() {
        let same = build([TestTensor("a", .f32, [16], offset: 0), TestTensor("b", .f32, [16], offset: 0)])
        assertRejects(same, field: "tensor 'b' data", message: "overlaps tensor 'a'")
        // Listed out of order: the check sorts by offset.
        let tensors = [TestTensor("late", .f32, [16], offset: 32), TestTensor("early", .f32, [16], offset: 0)]
        let d = GGUFTestWriter(metadata: [("general.architecture", .string("llama"))], tensors: tensors).header().count
        assertRejects(build(tensors), field: "tensor 'late' data",
                      message: "range \(d + 32)..<\(d + 96) overlaps tensor 'early' (\(d)..<\(d + 64))")
    }

    func testAdjacentTensorsDoNotOverlap() throws {
        let file = try GGUFFile(bytes: build([TestTensor("b", .f32, [8], offset: 32), TestTensor("a", .f32, [8], offset: 0)]))
        XCTAssertEqual(file.tensors.map(\.name), ["b", "a"], "file order is kept")
        XCTAssertEqual(file.tensor("a")?.offset, file.dataOffset)
    }

    func testDuplicateTensorName() {
        assertRejects(build([TestTensor("w", .f32, [8]), TestTensor("v", .f32, [8]), TestTensor("w", .f32, [8])]),
                      field: "tensor 'w'", message: "duplicate tensor name (first used by tensor #0)")
    }

    func testTensorNames() {
        let long = String(repeating: "x", count: 64)
        assertRejects(build([TestTensor(long, .f32, [8])]), field: "tensor #0 name", message: "length 64 exceeds the limit of 63 bytes")
        XCTAssertNoThrow(try GGUFFile(bytes: build([TestTensor(String(long.dropFirst()), .f32, [8])])))
        assertRejects(build([TestTensor("", .f32, [8])]), field: "tensor #0 name", message: "name is empty")
    }
}
