import GGUF
import Kernels
import XCTest

/// Our kernels against llama.cpp's reference arithmetic, as gguf-py reproduces it (see Fixtures/).
final class ReferenceFixtureTests: XCTestCase {
    private var fixtures: QuantFixtures!

    override func setUpWithError() throws {
        fixtures = try QuantFixtures.load()
        XCTAssertGreaterThanOrEqual(fixtures.cases.count, 40)
    }

    override func tearDown() {
        Kernels.forceScalar(false)
    }

    private func activationBytes(_ c: QuantFixtures.Case, _ type: GGMLType) throws -> [UInt8] {
        let act = try Kernels.activationType(for: type)
        if act == .f32 {
            return fixtures.bytes(fixtures.activation(named: c.activation).values)
        }
        return try XCTUnwrap(fixtures.quantizedActivation(named: c.activation, as: act), c.name)
    }

    func testDequantizationIsBitwiseEqualToGGUF() throws {
        var covered = Set<GGMLType>()
        for c in fixtures.cases {
            let type = try XCTUnwrap(GGMLType(rawValue: c.type))
            let ours = TestData.dequantize(type, fixtures.bytes(c.weights), count: c.count)
            let theirs = fixtures.floats(c.dequantized)
            XCTAssertEqual(ours.count, theirs.count, c.name)
            let mismatch = ours.indices.first { ours[$0].bitPattern != theirs[$0].bitPattern }
            XCTAssertNil(mismatch, "\(c.name): element \(mismatch ?? -1) is \(ours[mismatch ?? 0]), gguf says \(theirs[mismatch ?? 0])")
            covered.insert(type)
        }
        XCTAssertEqual(covered, Set(TestData.weightTypes))
    }

    func testActivationQuantizationIsByteEqualToReference() throws {
        let paths: [KernelPath] = Kernels.avx2Available ? [.scalar, .avx2] : [.scalar]
        var covered = Set<GGMLType>()
        for a in fixtures.activations {
            let x = fixtures.floats(a.values)
            for format in a.formats {
                let type = try XCTUnwrap(GGMLType(rawValue: format.type))
                let expected = fixtures.bytes(format.bytes)
                for path in paths {
                    let ours = try TestData.quantize(x, as: type, path: path)
                    let mismatch = ours.indices.first { ours[$0] != expected[$0] }
                    XCTAssertEqual(ours.count, expected.count)
                    XCTAssertNil(mismatch, "\(type) \(a.name) \(path): byte \(mismatch ?? -1) differs")
                }
                covered.insert(type)
            }
        }
        XCTAssertEqual(covered, [.q8_0, .q8_1, .q8_K, .f16, .bf16])
    }

    /// Our scalar dot on llama.cpp's bytes equals llama.cpp's integer arithmetic, within 1e-5 of the size of the
    /// terms (float32 accumulation against float64).
    func testScalarDotMatchesIntegerArithmetic() throws {
        for c in fixtures.cases {
            let type = try XCTUnwrap(GGMLType(rawValue: c.type))
            let ours = try TestData.dot(type, count: c.count, fixtures.bytes(c.weights), activationBytes(c, type), path: .scalar)
            XCTAssertLessThanOrEqual(abs(Double(ours) - c.dot), 1e-5 * c.dotAbs + 1e-30, "\(c.name): \(ours) vs \(c.dot)")
        }
    }

    /// The dispatched dot stays close to dequantized weights . dequantized activations. Q4_1 and Q5_1 use the
    /// activation's fp16-rounded d*sum(q) for the min term, as llama.cpp does, so their budget is wider.
    func testDotApproximatesDequantizedProduct() throws {
        for c in fixtures.cases {
            let type = try XCTUnwrap(GGMLType(rawValue: c.type))
            let ours = try TestData.dot(type, count: c.count, fixtures.bytes(c.weights), activationBytes(c, type))
            let budget = (type == .q4_1 || type == .q5_1) ? 1e-3 : 2e-5
            XCTAssertLessThanOrEqual(abs(Double(ours) - c.dotDequantized), budget * c.dotAbs + 1e-30,
                                     "\(c.name): \(ours) vs \(c.dotDequantized)")
        }
    }

    /// matmul on reference bytes: each case's weight row repeated as a 3-row matrix, on two threads.
    func testMatmulOnReferenceRowsMatchesIntegerArithmetic() throws {
        let pool = ThreadPool(threads: 2)
        for c in fixtures.cases {
            let type = try XCTUnwrap(GGMLType(rawValue: c.type))
            let x = fixtures.floats(fixtures.activation(named: c.activation).values)
            let row = fixtures.bytes(c.weights)
            let weights = row + row + row
            var y = [Float](repeating: .nan, count: 3)
            try weights.withUnsafeBytes { raw in
                let w = try WeightMatrix(type: type, rows: 3, cols: c.count, data: raw.baseAddress!)
                Kernels.matmul(w, x, batch: 1, into: &y, pool: pool)
            }
            for r in 0..<3 {
                XCTAssertLessThanOrEqual(abs(Double(y[r]) - c.dot), 2e-5 * c.dotAbs + 1e-30, "\(c.name): \(y[r]) vs \(c.dot)")
            }
        }
    }
}
