import GGUF
import Kernels
import XCTest

/// Every AVX2 kernel against its scalar twin on awkward lengths and random data.
final class SIMDTwinTests: XCTestCase {
    override func setUpWithError() throws {
        try XCTSkipUnless(Kernels.avx2Available, "this CPU has no AVX2+FMA+F16C; only the scalar path exists")
    }

    override func tearDown() {
        Kernels.forceScalar(false)
    }

    /// Lengths in blocks: one block, odd counts, and counts that leave remainders after unrolled loops.
    private func lengths(_ type: GGMLType) -> [Int] {
        switch type.blockSize {
        case 1: return [1, 7, 8, 9, 31, 33, 100, 255, 640, 2049]
        case 32: return [1, 2, 3, 7, 9, 20, 72].map { $0 * 32 }
        default: return [1, 2, 3, 9].map { $0 * 256 }
        }
    }

    func testDotProductsAgreeWithScalar() throws {
        var rng = SeededRandom(seed: 7)
        for type in TestData.weightTypes {
            let act = try Kernels.activationType(for: type)
            for count in lengths(type) {
                for trial in 0..<3 {
                    let wq = TestData.weights(type, count: count, rng: &rng)
                    let x = TestData.activations(count: count, rng: &rng)
                    let xq = try TestData.quantize(x, as: act, path: .scalar)
                    let scalar = try TestData.dot(type, count: count, wq, xq, path: .scalar)
                    let avx2 = try TestData.dot(type, count: count, wq, xq, path: .avx2)
                    let scale = TestData.magnitude(TestData.dequantize(type, wq, count: count), x)
                    XCTAssertLessThanOrEqual(abs(Double(avx2) - Double(scalar)), 1e-5 * scale + 1e-30,
                                             "\(type) n=\(count) trial \(trial): avx2 \(avx2) scalar \(scalar)")
                }
            }
        }
    }

    /// One block, integer activations with amax 127 (activation scale exactly 1): the integer sums must agree
    /// exactly, leaving only the last-bit rounding of the per-lane float scaling.
    func testSingleBlockDotsAgreeToAMillionth() throws {
        var rng = SeededRandom(seed: 11)
        for type in TestData.weightTypes where type.blockSize > 1 {
            let act = try Kernels.activationType(for: type)
            for _ in 0..<20 {
                let wq = TestData.weights(type, count: type.blockSize, rng: &rng)
                // values k + 0.0 with amax 127: d = 1 (Q8_0/Q8_1) or -1 (Q8_K), so every product is exact
                var x = (0..<type.blockSize).map { _ in Float(Int.random(in: -126...126, using: &rng)) }
                x[0] = 127
                let xq = try TestData.quantize(x, as: act, path: .scalar)
                let scalar = try TestData.dot(type, count: type.blockSize, wq, xq, path: .scalar)
                let avx2 = try TestData.dot(type, count: type.blockSize, wq, xq, path: .avx2)
                let scale = TestData.magnitude(TestData.dequantize(type, wq, count: type.blockSize), x)
                XCTAssertLessThanOrEqual(abs(avx2 - scalar), Float(1e-6 * scale), "\(type): \(avx2) vs \(scalar)")
            }
        }
    }

    func testActivationQuantizersProduceTheSameBytes() throws {
        var rng = SeededRandom(seed: 3)
        let formats: [GGMLType] = [.q8_0, .q8_1, .q8_K, .f16, .bf16]
        for type in formats {
            for blocks in [1, 2, 3, 5, 9] {
                let count = blocks * type.blockSize * (type.blockSize == 1 ? 37 : 1)
                var x = TestData.activations(count: count, rng: &rng)
                // exact halves and a duplicated maximum of both signs: tie-breaking and first-max selection
                for i in stride(from: 0, to: count, by: 5) { x[i] = Float(Int.random(in: -40...40, using: &rng)) + 0.5 }
                if count >= 64 {
                    x[3] = 127
                    x[40] = -127
                }
                let scalar = try TestData.quantize(x, as: type, path: .scalar)
                let avx2 = try TestData.quantize(x, as: type, path: .avx2)
                let mismatch = scalar.indices.first { scalar[$0] != avx2[$0] }
                XCTAssertNil(mismatch, "\(type) n=\(count): byte \(mismatch ?? -1) differs")
            }
        }
    }

    func testEveryHalfConvertsExactly() {
        let all = (0...UInt16.max).map { $0 }
        var viaF16C = [Float](repeating: 0, count: all.count)
        var viaScalar = [Float](repeating: 0, count: all.count)
        Kernels.halvesToFloats(all, count: all.count, into: &viaF16C)
        Kernels.forceScalar(true)
        Kernels.halvesToFloats(all, count: all.count, into: &viaScalar)
        Kernels.forceScalar(false)
        for h in all {
            let expected = Float(Float16(bitPattern: h))
            let i = Int(h)
            if expected.isNaN {
                XCTAssertTrue(viaScalar[i].isNaN && viaF16C[i].isNaN, "half \(h)")
                continue
            }
            XCTAssertEqual(viaScalar[i].bitPattern, expected.bitPattern, "scalar half \(h)")
            XCTAssertEqual(viaF16C[i].bitPattern, expected.bitPattern, "F16C half \(h)")
        }
    }

    func testFloatsRoundToNearestEvenHalf() {
        var rng = SeededRandom(seed: 5)
        var x: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e9, .infinity, -.infinity,
                          0x1p-14, 0x1p-15, 0x1p-24, 0x1p-25, 0x1.8p-24, 0x1p-26, 3 * 0x1p-25, 1 + 0x1p-11,
                          1 + 0x1p-11 + 0x1p-20, 1 + 3 * 0x1p-11, 2049, 2051, .leastNonzeroMagnitude, 6.1e-5]
        for _ in 0..<20000 {
            let exponent = Float(Int.random(in: -30...17, using: &rng))
            x.append(Float.random(in: -2...2, using: &rng) * Float(sign: .plus, exponent: Int(exponent), significand: 1))
        }
        var viaF16C = [UInt16](repeating: 0, count: x.count)
        var viaScalar = [UInt16](repeating: 0, count: x.count)
        Kernels.floatsToHalves(x, count: x.count, into: &viaF16C)
        Kernels.forceScalar(true)
        Kernels.floatsToHalves(x, count: x.count, into: &viaScalar)
        Kernels.forceScalar(false)
        for (i, v) in x.enumerated() {
            let expected = Float16(v).bitPattern
            XCTAssertEqual(viaScalar[i], expected, "scalar \(v)")
            XCTAssertEqual(viaF16C[i], expected, "F16C \(v)")
        }
        XCTAssertEqual(Kernels.floatToHalf(.nan) & 0x7e00, 0x7e00)
    }

    func testBFloat16RoundsToNearestEven() {
        XCTAssertEqual(Kernels.floatToBFloat16(1), 0x3f80)
        XCTAssertEqual(Kernels.floatToBFloat16(Float(bitPattern: 0x3f80_8000)), 0x3f80) // tie, even stays
        XCTAssertEqual(Kernels.floatToBFloat16(Float(bitPattern: 0x3f81_8000)), 0x3f82) // tie, odd rounds up
        XCTAssertEqual(Kernels.floatToBFloat16(Float(bitPattern: 0x3f80_8001)), 0x3f81)
        XCTAssertEqual(Kernels.bfloat16ToFloat(0xc040), -3)
        XCTAssertTrue(Kernels.bfloat16ToFloat(Kernels.floatToBFloat16(.nan)).isNaN)
    }
}
