import GGUF
import XCTest

final class GGMLTypeTests: XCTestCase {
    /// ggml's type-traits table as the `gguf` Python package 0.19.0 states it (GGML_QUANT_SIZES):
    /// type id, name, elements per block, bytes per block.
    static let reference: [(UInt32, String, Int, Int)] = [
        (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20), (6, "Q5_0", 32, 22),
        (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34), (9, "Q8_1", 32, 40), (10, "Q2_K", 256, 84),
        (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176), (14, "Q6_K", 256, 210),
        (15, "Q8_K", 256, 292), (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74), (18, "IQ3_XXS", 256, 98),
        (19, "IQ1_S", 256, 50), (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110), (22, "IQ2_S", 256, 82),
        (23, "IQ4_XS", 256, 136), (24, "I8", 1, 1), (25, "I16", 1, 2), (26, "I32", 1, 4), (27, "I64", 1, 8),
        (28, "F64", 1, 8), (29, "IQ1_M", 256, 56), (30, "BF16", 1, 2), (34, "TQ1_0", 256, 54),
        (35, "TQ2_0", 256, 66), (39, "MXFP4", 32, 17), (40, "NVFP4", 64, 36), (41, "Q1_0", 128, 18),
    ]

    func testTraitsMatchGGML() {
        XCTAssertEqual(GGMLType.allCases.map(\.rawValue), Self.reference.map(\.0))
        for (id, name, blockSize, blockBytes) in Self.reference {
            guard let type = GGMLType(rawValue: id) else { XCTFail("no type for id \(id)"); continue }
            XCTAssertEqual(type.name, name)
            XCTAssertEqual(type.blockSize, blockSize, name)
            XCTAssertEqual(type.blockBytes, blockBytes, name)
        }
    }

    func testRemovedTypeIDsAreUnknown() {
        for id: UInt32 in [4, 5, 31, 32, 33, 36, 37, 38, 42, 1000, .max] {
            XCTAssertNil(GGMLType(rawValue: id), "\(id)")
        }
    }

    func testRowBytes() {
        XCTAssertEqual(GGMLType.f32.rowBytes(640), 2560)
        XCTAssertEqual(GGMLType.q8_0.rowBytes(640), 680)
        XCTAssertEqual(GGMLType.q4_K.rowBytes(1024), 576)
        XCTAssertEqual(GGMLType.q6_K.rowBytes(2048), 1680)
        XCTAssertEqual(GGMLType.q5_0.rowBytes(0), 0)
        XCTAssertNil(GGMLType.q4_K.rowBytes(640), "640 is not a whole number of 256-element blocks")
        XCTAssertNil(GGMLType.q8_0.rowBytes(33))
        XCTAssertNil(GGMLType.f32.rowBytes(-4))
        XCTAssertNil(GGMLType.f32.rowBytes(Int.max), "4 × Int.max overflows")
        XCTAssertEqual(GGMLType.i8.rowBytes(Int.max), Int.max)
    }
}
