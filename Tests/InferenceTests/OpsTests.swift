import CKernels
import Kernels
import XCTest

/// The element-wise ops against straightforward references.
final class OpsTests: XCTestCase {
    func testRMSNorm() {
        let x: [Float] = [1, -2, 3, -4, 5]
        let w: [Float] = [1, 0.5, 2, 1, -1]
        var y = [Float](repeating: 0, count: 5)
        ck_rmsnorm(x, w, &y, 5, 1e-6)
        let rms = (x.map { Double($0 * $0) }.reduce(0, +) / 5 + 1e-6).squareRoot()
        for i in 0..<5 { XCTAssertEqual(Double(y[i]), Double(x[i]) / rms * Double(w[i]), accuracy: 1e-6) }
    }

    func testSoftmaxWithMaskedEntries() {
        var x: [Float] = [1, 2, -.infinity, 3]
        ck_softmax(&x, 4)
        let e = [exp(1.0), exp(2.0), 0, exp(3.0)]
        let sum = e.reduce(0, +)
        for i in 0..<4 { XCTAssertEqual(Double(x[i]), e[i] / sum, accuracy: 1e-6) }
    }

    func testRopeNeoxAndNormalRotatePairs() {
        var cosines = [Float](repeating: 0, count: 2)
        var sines = [Float](repeating: 0, count: 2)
        ck_rope_cache(3, 4, 10000, 1, nil, &cosines, &sines)
        // theta_0 = 3, theta_1 = 3 * 10000^(-1/2) = 0.03
        XCTAssertEqual(cosines[0], cos(3), accuracy: 1e-6)
        XCTAssertEqual(sines[1], sin(0.03), accuracy: 1e-6)
        var neox: [Float] = [1, 2, 3, 4]
        ck_rope(&neox, 1, 4, 4, cosines, sines, 1)
        XCTAssertEqual(neox[0], 1 * cos(3) - 3 * sin(3), accuracy: 1e-5)
        XCTAssertEqual(neox[2], 1 * sin(3) + 3 * cos(3), accuracy: 1e-5)
        var normal: [Float] = [1, 2, 3, 4]
        ck_rope(&normal, 1, 4, 4, cosines, sines, 0)
        XCTAssertEqual(normal[0], 1 * cos(3) - 2 * sin(3), accuracy: 1e-5)
        XCTAssertEqual(normal[1], 1 * sin(3) + 2 * cos(3), accuracy: 1e-5)
    }

    func testGegluMatchesTanhGeluWithinHalfPrecision() {
        ck_gelu_table_init()
        let x: [Float] = [-12, -3, -0.5, 0, 0.7, 2, 9.99, 11]
        let g: [Float] = [1, 2, 1, 1, 3, 1, 1, 0.5]
        var y = [Float](repeating: 0, count: x.count)
        ck_geglu(x, g, &y, Int64(x.count))
        for i in x.indices {
            let v = Double(x[i])
            let gelu = v <= -10 ? 0 : v >= 10 ? v : 0.5 * v * (1 + tanh(0.7978845608 * v * (1 + 0.044715 * v * v)))
            XCTAssertEqual(Double(y[i]), gelu * Double(g[i]), accuracy: max(1e-3, abs(gelu * Double(g[i])) * 2e-3))
        }
    }

    func testAttentionOverFP16Cache() {
        // Two keys; the query matches the second far better.
        let headDim = 4
        let q: [Float] = [1, 0, 0, 0]
        let keys: [Float] = [0, 1, 0, 0, 4, 0, 0, 0]
        let values: [Float] = [1, 1, 1, 1, 2, 4, 6, 8]
        var k16 = [UInt16](repeating: 0, count: 8)
        var v16 = [UInt16](repeating: 0, count: 8)
        ck_fp32_to_fp16_row(keys, &k16, 8)
        ck_fp32_to_fp16_row(values, &v16, 8)
        var scores = [Float](repeating: 0, count: 2)
        var out = [Float](repeating: 0, count: headDim)
        ck_attend_f16(q, k16, 4, v16, 4, 2, 4, 1, 0, nil, &scores, &out)
        let p1 = 1 / (1 + exp(-4.0))
        XCTAssertEqual(Double(scores[1]), p1, accuracy: 1e-6)
        for i in 0..<4 { XCTAssertEqual(Double(out[i]), (1 - p1) * Double(values[i]) + p1 * Double(values[4 + i]), accuracy: 1e-5) }
    }

    func testAttentionAVX2TwinMatchesScalar() throws {
        guard ck_using_avx2() != 0 else { throw XCTSkip("this CPU has no AVX2") }
        var rng = SystemRandomNumberGenerator()
        for (headDim, positions) in [(8, 1), (64, 3), (72, 17), (256, 130)] {
            let stride = headDim + 8  // keys and values of several heads interleave in the cache
            let q = (0..<headDim).map { _ in Float.random(in: -2...2, using: &rng) }
            let keys = (0..<(positions * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
            let values = (0..<(positions * stride)).map { _ in Float.random(in: -2...2, using: &rng) }
            var k16 = [UInt16](repeating: 0, count: keys.count)
            var v16 = [UInt16](repeating: 0, count: values.count)
            ck_fp32_to_fp16_row(keys, &k16, Int64(keys.count))
            ck_fp32_to_fp16_row(values, &v16, Int64(values.count))
            var s1 = [Float](repeating: 0, count: positions), s2 = s1
            var o1 = [Float](repeating: 0, count: headDim), o2 = o1
            let scale = 1 / Float(headDim).squareRoot()
            ck_attend_f16_scalar(q, k16, Int64(stride), v16, Int64(stride), Int64(positions), Int64(headDim), scale, 0, nil, &s1, &o1)
            ck_attend_f16_avx2(q, k16, Int64(stride), v16, Int64(stride), Int64(positions), Int64(headDim), scale, 0, nil, &s2, &o2)
            for i in 0..<positions { XCTAssertEqual(s1[i], s2[i], accuracy: 1e-5, "probability \(i), head_dim \(headDim)") }
            for i in 0..<headDim { XCTAssertEqual(o1[i], o2[i], accuracy: 1e-4, "output \(i), head_dim \(headDim)") }
        }
    }

    /// ck_attend_many over the pool, with heads of a group sharing their keys and values, gives every head bit for
    /// bit what ck_attend_f16 gives it alone.
    func testAttentionOverThePoolEqualsOneHeadAtATime() {
        var rng = SystemRandomNumberGenerator()
        for (headDim, heads, kvHeads, positions) in [(256, 4, 1, 37), (72, 6, 2, 9), (8, 3, 3, 1), (264, 5, 1, 130)] {
            let width = kvHeads * headDim
            let keys = (0..<(positions * width)).map { _ in Float.random(in: -2...2, using: &rng) }
            let values = (0..<(positions * width)).map { _ in Float.random(in: -2...2, using: &rng) }
            var k16 = [UInt16](repeating: 0, count: keys.count), v16 = k16
            ck_fp32_to_fp16_row(keys, &k16, Int64(keys.count))
            ck_fp32_to_fp16_row(values, &v16, Int64(values.count))
            // Rows at the last three positions (fewer when there are fewer), all heads; item order: row, head.
            let rows = min(3, positions)
            let q = (0..<(rows * heads * headDim)).map { _ in Float.random(in: -2...2, using: &rng) }
            var expected = [Float](repeating: 0, count: q.count)
            var scores = [Float](repeating: 0, count: positions)
            let scale = 1 / Float(headDim).squareRoot()
            for r in 0..<rows {
                let n = positions - rows + r + 1
                for h in 0..<heads {
                    let kv = (h / (heads / kvHeads)) * headDim
                    q.withUnsafeBufferPointer { qp in
                        expected.withUnsafeMutableBufferPointer { ep in
                            ck_attend_f16(qp.baseAddress! + (r * heads + h) * headDim, Array(k16[kv...]), Int64(width), Array(v16[kv...]),
                                          Int64(width), Int64(n), Int64(headDim), scale, 0, nil, &scores, ep.baseAddress! + (r * heads + h) * headDim)
                        }
                    }
                }
            }
            for threads in [1, 2, 3] {
                let pool = ThreadPool(threads: threads)
                var got = [Float](repeating: .nan, count: q.count)
                k16.withUnsafeBufferPointer { kp in
                    v16.withUnsafeBufferPointer { vp in
                        q.withUnsafeBufferPointer { qp in
                            got.withUnsafeMutableBufferPointer { gp in
                                var items: [ck_attend_item] = []
                                for r in 0..<rows {
                                    for h in 0..<heads {
                                        let kv = (h / (heads / kvHeads)) * headDim
                                        items.append(ck_attend_item(q: qp.baseAddress! + (r * heads + h) * headDim, k: kp.baseAddress! + kv,
                                                                    v: vp.baseAddress! + kv, n_kv: Int64(positions - rows + r + 1),
                                                                    out: gp.baseAddress! + (r * heads + h) * headDim))
                                    }
                                }
                                XCTAssertEqual(ck_attend_many(pool.handle, items, Int64(items.count), Int64(width), Int64(width), Int64(headDim),
                                                              scale, 0, Int64(positions)), Int32(CK_OK))
                            }
                        }
                    }
                }
                XCTAssertEqual(got, expected, "head_dim \(headDim), \(heads) heads over \(kvHeads), \(threads) threads")
            }
        }
    }
}
