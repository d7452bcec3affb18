import GGUF
import Kernels
import XCTest

/// ck_matmul on the pool against the per-row dot products it is made of. Batches of several columns of the quantized
/// formats take the tiled kernels (TiledMatmulTests), which give the same bits.
final class MatmulTests: XCTestCase {
    override func tearDown() {
        Kernels.forceScalar(false)
    }

    /// Threads 1, 2 and 3; batch 1 and 7; 37 rows (a multiple of no thread count). The dispatched matmul must equal
    /// the dispatched per-row dot bit for bit (same kernel, same inputs, whichever thread ran it).
    func testMatmulEqualsPerRowDotForEveryType() throws {
        let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2), ThreadPool(threads: 3)]
        XCTAssertEqual(pools.map(\.threadCount), [1, 2, 3])
        for (t, type) in TestData.weightTypes.enumerated() {
            for batch in [1, 7] {
                let p = MatmulProblem(type, rows: 37, cols: MatmulProblem.columns(type), batch: batch, seed: UInt64(100 + t * 10 + batch))
                let expected = try p.expected(batch: batch, path: .automatic)
                for pool in pools {
                    let y = try p.matmul(batch: batch, pool: pool)
                    let mismatch = y.indices.first { y[$0].bitPattern != expected[$0].bitPattern }
                    XCTAssertNil(mismatch, "\(type) batch \(batch) threads \(pool.threadCount): y[\(mismatch ?? -1)]")
                }
            }
        }
    }

    /// Several matrices sharing one input (mixed activation formats: Q8_0 for Q5_0/Q8_0, Q8_K for Q4_K/Q6_K) give
    /// exactly what one matmul per matrix gives.
    func testMatmulOfSeveralMatricesEqualsSeparateMatmuls() throws {
        let cols = 512
        let types: [GGMLType] = [.q5_0, .q4_K, .q8_0, .q6_K]
        let rows = [37, 5, 64, 19]
        var problems: [MatmulProblem] = []
        for (i, type) in types.enumerated() {
            problems.append(MatmulProblem(type, rows: rows[i], cols: cols, batch: 3, seed: UInt64(900 + i)))
        }
        let x = problems[0].x  // one shared input
        for pool in [ThreadPool(threads: 1), ThreadPool(threads: 2)] {
            var outputs = rows.map { [Float](repeating: .nan, count: 3 * $0) }
            let buffers = outputs.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: 3 * rows[i]) }
            defer { buffers.forEach { $0.deallocate() } }
            try withExtendedLifetime(problems) {
                let matrices = try problems.map { p in
                    try p.weights.withUnsafeBytes { try WeightMatrix(type: p.type, rows: p.rows, cols: cols, data: $0.baseAddress!) }
                }
                Kernels.matmul(matrices, x, batch: 3, into: buffers, pool: pool)
            }
            for i in outputs.indices { outputs[i] = Array(UnsafeBufferPointer(start: buffers[i], count: 3 * rows[i])) }
            for (i, p) in problems.enumerated() {
                let single = try MatmulProblem(type: p.type, rows: p.rows, cols: cols, weights: p.weights, x: x).matmul(batch: 3, pool: pool)
                XCTAssertEqual(outputs[i].map(\.bitPattern), single.map(\.bitPattern), "\(p.type) with \(pool.threadCount) thread(s)")
            }
        }
    }

    /// Forced scalar: matmul equals the scalar dot exactly; dispatched: within 1e-5 of it.
    func testScalarOverrideAndAVX2AgreeOnMatmul() throws {
        let pool = ThreadPool(threads: 2)
        for (t, type) in TestData.weightTypes.enumerated() {
            let p = MatmulProblem(type, rows: 13, cols: MatmulProblem.columns(type), batch: 3, seed: UInt64(500 + t))
            let scalar = try p.expected(batch: 3, path: .scalar)
            Kernels.forceScalar(true)
            XCTAssertFalse(Kernels.usingAVX2)
            let forced = try p.matmul(batch: 3, pool: pool)
            Kernels.forceScalar(false)
            XCTAssertEqual(forced.map(\.bitPattern), scalar.map(\.bitPattern), "\(type) forced scalar")
            XCTAssertEqual(Kernels.usingAVX2, Kernels.avx2Available)
            let fast = try p.matmul(batch: 3, pool: pool)
            let scale = p.magnitudes(batch: 3)
            for i in fast.indices {
                XCTAssertLessThanOrEqual(abs(Double(fast[i]) - Double(scalar[i])), 1e-5 * scale[i] + 1e-30, "\(type) y[\(i)]")
            }
        }
    }

    /// A tall Q4_K and a wide Q8_0 matrix on two threads, batch growing and shrinking (scratch reuse).
    func testLargerShapesAndScratchReuse() throws {
        let pool = ThreadPool(threads: 2)
        for (type, rows, cols) in [(GGMLType.q4_K, 301, 1024), (.q8_0, 1031, 64), (.q6_K, 64, 2304)] {
            for batch in [1, 9, 2] {
                let p = MatmulProblem(type, rows: rows, cols: cols, batch: batch, seed: UInt64(rows * 7 + batch))
                let y = try p.matmul(batch: batch, pool: pool)
                XCTAssertEqual(y.map(\.bitPattern), try p.expected(batch: batch, path: .automatic).map(\.bitPattern), "\(type) batch \(batch)")
            }
        }
    }

    func testPoolSharedByConcurrentCallers() throws {
        let pool = ThreadPool(threads: 2)
        let p = MatmulProblem(.q5_0, rows: 200, cols: 256, batch: 2, seed: 9)
        let expected = try p.expected(batch: 2, path: .automatic)
        let failures = Counter()
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            for _ in 0..<5 where (try? p.matmul(batch: 2, pool: pool)) != expected {
                failures.increment()
            }
        }
        XCTAssertEqual(failures.value, 0)
    }

    func testEmptyBatchAndZeroRowsWriteNothing() throws {
        let pool = ThreadPool(threads: 2)
        let p = MatmulProblem(.q8_0, rows: 4, cols: 32, batch: 1, seed: 1)
        XCTAssertEqual(try p.matmul(batch: 0, pool: pool), [])
        var y: [Float] = [42]
        let bytes: [UInt8] = []
        try bytes.withUnsafeBytes { raw in
            let w = try WeightMatrix(type: .q8_0, rows: 0, cols: 32, data: raw.baseAddress ?? UnsafeRawPointer(bitPattern: 64)!)
            Kernels.matmul(w, p.x, batch: 1, into: &y, pool: pool)
        }
        XCTAssertEqual(y, [42])
    }

    func testDequantizeRowPicksTheRightRow() throws {
        for (t, type) in TestData.weightTypes.enumerated() {
            let cols = MatmulProblem.columns(type)
            let p = MatmulProblem(type, rows: 5, cols: cols, batch: 1, seed: UInt64(900 + t))
            let all = TestData.dequantize(type, p.weights, count: 5 * cols)
            try p.weights.withUnsafeBytes { raw in
                let w = try WeightMatrix(type: type, rows: 5, cols: cols, data: raw.baseAddress!)
                XCTAssertEqual(w.rowBytes, try Kernels.rowBytes(type, count: cols))
                for r in [0, 3, 4] {
                    var out = [Float](repeating: .nan, count: cols)
                    Kernels.dequantizeRow(w, row: r, into: &out)
                    XCTAssertEqual(out.map(\.bitPattern), all[(r * cols)..<((r + 1) * cols)].map(\.bitPattern), "\(type) row \(r)")
                }
            }
        }
    }
}

/// A lock-protected count for the concurrency test.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0

    func increment() {
        lock.lock()
        count += 1
        lock.unlock()
    }

    var value: Int {
        lock.lock()
        defer { lock.unlock() }
        return count
    }
}
