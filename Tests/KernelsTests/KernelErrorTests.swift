import GGUF
import Kernels
import XCTest

final class KernelErrorTests: XCTestCase {
    private let bytes = [UInt8](repeating: 0, count: 4096)

    private func makeMatrix(_ type: GGMLType, rows: Int, cols: Int) throws -> WeightMatrix {
        try bytes.withUnsafeBytes { raw in
            try WeightMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
        }
    }

    func testUnsupportedTypeIsNamedWithTheSupportedList() {
        XCTAssertThrowsError(try makeMatrix(.q2_K, rows: 1, cols: 256)) { error in
            XCTAssertEqual("\(error)", "tensor type Q2_K is not supported; supported: "
                + "F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K, BF16")
        }
        for type in [GGMLType.q3_K, .q8_1, .q8_K] {
            XCTAssertFalse(Kernels.isSupported(type))
            XCTAssertThrowsError(try makeMatrix(type, rows: 1, cols: 256)) { error in
                XCTAssertTrue("\(error)".hasPrefix("tensor type \(String(describing: type).uppercased()) is not supported"))
            }
        }
        for type in TestData.weightTypes {
            XCTAssertTrue(Kernels.isSupported(type), "\(type)")
        }
    }

    func testColumnsMustBeWholeBlocks() {
        XCTAssertThrowsError(try makeMatrix(.q4_K, rows: 2, cols: 300)) { error in
            XCTAssertEqual("\(error)", "tensor type Q4_K stores blocks of 256 elements; element count 300 is not "
                + "a non-negative multiple of that")
        }
        XCTAssertThrowsError(try makeMatrix(.q8_0, rows: 2, cols: 0))
        XCTAssertThrowsError(try makeMatrix(.q8_0, rows: -1, cols: 32))
        XCTAssertThrowsError(try makeMatrix(.q8_0, rows: Int.max / 2, cols: 64)) { error in
            XCTAssertTrue("\(error)".contains("too large"), "\(error)")
        }
        XCTAssertNoThrow(try makeMatrix(.f32, rows: 3, cols: 5))
    }

    func testRowFunctionsRefuseMismatchedFormats() {
        var out = [Float](repeating: 0, count: 256)
        let x = [Float](repeating: 1, count: 256)
        XCTAssertThrowsError(try Kernels.dequantize(type: .q8_K, src: bytes, count: 256, into: &out))
        XCTAssertThrowsError(try Kernels.dequantize(type: .q5_1, src: bytes, count: 48, into: &out))
        var dst = [UInt8](repeating: 0, count: 1024)
        XCTAssertThrowsError(try Kernels.quantizeRow(x, count: 256, as: .q4_K, into: &dst)) { error in
            XCTAssertTrue("\(error)".hasPrefix("tensor type Q4_K is not an activation format"), "\(error)")
        }
        XCTAssertThrowsError(try Kernels.quantizeRow(x, count: 100, as: .q8_K, into: &dst))
        XCTAssertThrowsError(try Kernels.vecDot(.q8_K, count: 256, weights: bytes, activations: bytes))
        XCTAssertEqual(try Kernels.activationType(for: .q4_0), .q8_0)
        XCTAssertEqual(try Kernels.activationType(for: .q5_1), .q8_1)
        XCTAssertEqual(try Kernels.activationType(for: .q6_K), .q8_K)
        XCTAssertEqual(try Kernels.activationType(for: .bf16), .bf16)
        XCTAssertThrowsError(try Kernels.activationType(for: .q8_1))
    }
}
