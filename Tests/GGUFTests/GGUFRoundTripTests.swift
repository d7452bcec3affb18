import Foundation
import GGUF
import XCTest

/// Files written by the test writer (and one by llama.cpp's Python writer) read back exactly.
final class GGUFRoundTripTests: XCTestCase {
    static let everyValue: [(String, GGUFValue)] = [
        ("general.architecture", .string("testarch")),
        ("v.u8", .uint8(.max)), ("v.i8", .int8(.min)), ("v.u16", .uint16(.max)), ("v.i16", .int16(.min)),
        ("v.u32", .uint32(.max)), ("v.i32", .int32(.min)), ("v.u64", .uint64(.max)), ("v.i64", .int64(.min)),
        ("v.f32", .float32(-1.5e-7)), ("v.f32.inf", .float32(.infinity)), ("v.f64", .float64(.pi)),
        ("v.true", .bool(true)), ("v.false", .bool(false)),
        ("v.str", .string("Grüße, 世界 🦙")), ("v.str.empty", .string("")),
        ("a.u8", .array(.uint8s([0, 1, 255]))), ("a.i8", .array(.int8s([-128, 127]))),
        ("a.u16", .array(.uint16s([1, 65535]))), ("a.i16", .array(.int16s([-32768, 5]))),
        ("a.u32", .array(.uint32s([.max, 0]))), ("a.i32", .array(.int32s([-1, 2, -3]))),
        ("a.u64", .array(.uint64s([.max]))), ("a.i64", .array(.int64s([.min, .max]))),
        ("a.f32", .array(.float32s([0.5, -0.25, 1e30]))), ("a.f64", .array(.float64s([-0.0, 2.5]))),
        ("a.bool", .array(.bools([true, false, false]))),
        ("a.str", .array(.strings(["<pad>", "", "▁the", "\u{0}", "é"]))),
        ("a.empty", .array(.int32s([]))), ("a.str.empty", .array(.strings([]))),
        ("a.nested", .array(.arrays([.int32s([1, 2]), .strings(["x"]), .float32s([])]))),
    ]

    static let tensors: [TestTensor] = [
        TestTensor("output_norm.weight", .f32, [4, 3]),
        TestTensor("blk.0.ffn_down.weight", .q4_K, [256, 2]),
        TestTensor("token_embd.weight", .q8_0, [32]),
        TestTensor("blk.0.attn_q.weight", .f16, [2, 2, 2, 2]),
        TestTensor("blk.0.attn_k.weight", .q6_K, [512, 3, 1]),
    ]

    func testEveryValueTypeAndTensorRoundTrips() throws {
        for version: UInt32 in [2, 3] {
            for alignment in [1, 8, 32, 64, 4096] {
                var writer = GGUFTestWriter(version: version, metadata: Self.everyValue, tensors: Self.tensors)
                if alignment != 32 { writer.align(to: alignment) }
                try checkRoundTrip(writer, context: "v\(version) alignment \(alignment)")
            }
        }
    }

    private func checkRoundTrip(_ writer: GGUFTestWriter, context: String) throws {
        let header = writer.header()
        let bytes = writer.build()
        let file = try GGUFFile(bytes: bytes)
        XCTAssertEqual(file.version, writer.version, context)
        XCTAssertEqual(file.alignment, writer.alignment, context)
        XCTAssertEqual(file.dataOffset, header.count, context)
        XCTAssertEqual(file.dataOffset % writer.alignment, 0, context)
        XCTAssertEqual(file.bytes.count, bytes.count, context)

        let expected = writer.metadata.map { entry -> (String, GGUFValue) in
            guard case .value(let value) = entry.entry else { fatalError("raw entry in a valid file") }
            return (entry.key, value)
        }
        XCTAssertEqual(file.metadata.map(\.key), expected.map(\.0), context)
        for (key, value) in expected {
            XCTAssertEqual(file[key], value, "\(context) \(key)")
        }
        if case .array(.float64s(let doubles))? = file["a.f64"] {
            XCTAssertEqual(doubles[0].sign, .minus, "the sign of -0.0 survives")
        } else {
            XCTFail("a.f64 is not an array of f64")
        }

        XCTAssertEqual(file.tensors.map(\.name), writer.tensors.map(\.name), context)
        for (written, placement) in zip(writer.tensors, writer.placements) {
            let tensor = try XCTUnwrap(file.tensor(written.name), context)
            XCTAssertEqual(tensor.dimensions, written.dimensions.map { Int($0) }, context)
            XCTAssertEqual(tensor.type.rawValue, written.typeID, context)
            XCTAssertEqual(tensor.offset, file.dataOffset + Int(placement), context)
            XCTAssertEqual(tensor.byteCount, written.bytes.count, context)
            XCTAssertEqual(tensor.offset % writer.alignment, 0, context)
            XCTAssertEqual(Array(file.data(tensor)), written.bytes, "\(context) \(written.name) bytes")
        }
        let q6 = try XCTUnwrap(file.tensor("blk.0.attn_k.weight"))
        XCTAssertEqual(q6.elementCount, 1536)
        XCTAssertEqual(q6.rows, 3)
        XCTAssertEqual(q6.rowBytes, 420)
        XCTAssertEqual(q6.byteCount, 1260)
        XCTAssertEqual("\(q6)", "blk.0.attn_k.weight Q6_K [512, 3, 1]")
        XCTAssertNil(file.tensor("output.weight"))
    }

    func testFileWithoutTensorsOrMetadata() throws {
        let file = try GGUFFile(bytes: GGUFTestWriter().build())
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertTrue(file.metadata.isEmpty)
        XCTAssertTrue(file.tensors.isEmpty)
        XCTAssertEqual(file.dataOffset, 32, "24 header bytes rounded up to 32")
    }

    func testInvalidUTF8InValuesIsRepairedNotFatal() throws {
        var writer = GGUFTestWriter()
        var value = ByteWriter()
        value.u32(GGUFValueType.string.rawValue)
        value.raw([0x61, 0xFF, 0x62], lengthPrefixed: true)
        writer.addRaw("bad.utf8", value.bytes)
        let file = try GGUFFile(bytes: writer.build())
        XCTAssertEqual(file["bad.utf8"], .string("a\u{FFFD}b"))
    }

    /// all-types.gguf comes from llama.cpp's own Python writer (Fixtures/make-all-types.py).
    func testReadsTheReferenceWritersFile() throws {
        let url = try XCTUnwrap(Bundle.module.url(forResource: "all-types", withExtension: "gguf", subdirectory: "Fixtures"))
        let file = try GGUFFile(bytes: Array(try Data(contentsOf: url)))
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 64)
        XCTAssertEqual(file.dataOffset % 64, 0)
        XCTAssertEqual(file.metadata.count, 28)
        let expected: [(String, GGUFValue)] = [
            ("general.architecture", .string("testarch")), ("general.alignment", .uint32(64)),
            ("t.u8", .uint8(255)), ("t.i8", .int8(-128)), ("t.u16", .uint16(65535)), ("t.i16", .int16(-32768)),
            ("t.u32", .uint32(.max)), ("t.i32", .int32(.min)), ("t.u64", .uint64(.max)), ("t.i64", .int64(.min)),
            ("t.f32", .float32(1.5)), ("t.f64", .float64(-2.25)), ("t.bool.true", .bool(true)),
            ("t.bool.false", .bool(false)), ("t.str", .string("héllo ✓ 🦙")),
            ("t.arr.u8", .array(.uint8s([1, 2, 255]))), ("t.arr.i8", .array(.int8s([-128, 127]))),
            ("t.arr.u16", .array(.uint16s([65535]))), ("t.arr.i16", .array(.int16s([-1, 300]))),
            ("t.arr.u32", .array(.uint32s([7]))), ("t.arr.i32", .array(.int32s([-5, 0, 5]))),
            ("t.arr.u64", .array(.uint64s([1, .max]))), ("t.arr.i64", .array(.int64s([.min, 9]))),
            ("t.arr.f32", .array(.float32s([0.5, -1, 3.25]))), ("t.arr.f64", .array(.float64s([0.125]))),
            ("t.arr.bool", .array(.bools([true, false, true]))),
            ("t.arr.str", .array(.strings(["a", "", "ünï", "<0x0A>"]))),
            ("t.arr.nested", .array(.arrays([.int32s([1, 2]), .int32s([3])]))),
        ]
        XCTAssertEqual(file.metadata.map(\.key), expected.map(\.0))
        for (key, value) in expected { XCTAssertEqual(file[key], value, key) }

        XCTAssertEqual(file.tensors.map(\.description), [
            "f32.weight F32 [3, 2]", "f16.weight F16 [4]", "i32.weight I32 [3]", "q8_0.weight Q8_0 [32, 2]",
        ])
        let f32 = try XCTUnwrap(file.tensor("f32.weight"))
        let values = (0..<6).map { file.data(f32).loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        XCTAssertEqual(values, [0, 1, 2, 3, 4, 5])
        let q8 = try XCTUnwrap(file.tensor("q8_0.weight"))
        XCTAssertEqual(Array(file.data(q8)), (0..<68).map { UInt8($0) })
        XCTAssertEqual((q8.offset + q8.byteCount + 63) / 64 * 64, file.bytes.count, "the writer pads the last tensor to the alignment")
    }
}
