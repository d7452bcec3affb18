import GGUF
import Kernels
import XCTest

/// Batches of several columns of the quantized formats take the tiled kernels (ck_gemm.c): each weight row unpacked
/// once and multiplied with every column. They must give, bit for bit, what the per-row dot products give on the
/// same tier -- so a sequence's logits do not depend on the batch it shares -- and above the scalar tier what the
/// AVX2 per-row dot products give, so they do not depend on the CPU's tier either; on ragged shapes (groups of four
/// and of eight rows, partly filled), every tier the CPU has and several threads; and so stay within the
/// activations' quantization error of the fp64 product.
final class TiledMatmulTests: XCTestCase {
    override func tearDown() {
        Kernels.limitTier(to: nil)
    }

    static let quantizedTypes: [GGMLType] = [.q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    /// The tiers to run: every one the CPU has, the scalar twins included.
    private var tiers: [KernelTier] { Kernels.availableTiers }

    /// y equals the per-row dot products on the path in use, and lies within the activations' quantization error
    /// (plus float rounding) of the fp64 product.
    private struct Reference {
        let exact: [Double], bound: [Double], scale: [Double]

        init(_ p: MatmulProblem, batch: Int) throws {
            exact = p.exact(batch: batch)
            bound = try p.activationErrorBound(batch: batch)
            scale = p.magnitudes(batch: batch)
        }
    }

    /// y, computed on tier `tier`, against the per-row dot products of that tier and (above scalar) of AVX2.
    private func check(_ y: [Float], _ p: MatmulProblem, batch: Int, tier: KernelTier, _ reference: Reference,
                       _ what: String) throws {
        let perRow = try p.expected(batch: batch, path: KernelPath(tier))
        let avx2 = tier > .avx2 ? try p.expected(batch: batch, path: .avx2) : perRow
        var failures = 0
        for i in y.indices where failures < 3 {
            let equal = y[i].bitPattern == perRow[i].bitPattern && y[i].bitPattern == avx2[i].bitPattern
            let near = abs(Double(y[i]) - reference.exact[i]) <= reference.bound[i] + 1e-5 * reference.scale[i] + 1e-6
            if !equal || !near {
                failures += 1
                XCTFail("\(what) y[\(i)] (row \(i % p.rows), column \(i / p.rows)): \(y[i]), per-row dot \(perRow[i]), "
                        + "AVX2 per-row dot \(avx2[i]), fp64 \(reference.exact[i]) +- \(reference.bound[i])")
            }
        }
    }

    /// Every quantized type; rows that fill no, one or several groups of four or eight, or leave one partly filled;
    /// batches on both sides of each type's switch to the tiled kernels; one, two and three threads; every tier.
    func testEveryTypeGivesThePerRowDotBitForBit() throws {
        let pools = [ThreadPool(threads: 1), ThreadPool(threads: 2), ThreadPool(threads: 3)]
        for (t, type) in Self.quantizedTypes.enumerated() {
            for (k, rows) in [1, 4, 7, 8, 13, 37].enumerated() {
                for batch in [2, 3, 5, 17, 64] {
                    let p = MatmulProblem(type, rows: rows, cols: MatmulProblem.columns(type), batch: batch,
                                          seed: UInt64(3000 + 100 * t + 10 * k + batch))
                    let reference = try Reference(p, batch: batch)
                    let pool = pools[(k + batch) % pools.count]
                    for tier in tiers {
                        Kernels.limitTier(to: tier)
                        let y = try p.matmul(batch: batch, pool: pool)
                        try check(y, p, batch: batch, tier: tier, reference,
                                  "\(type) \(rows) rows batch \(batch) threads \(pool.threadCount) \(tier.name)")
                    }
                    Kernels.limitTier(to: nil)
                }
            }
        }
    }

    /// Columns that are all zero (every block scale zero), a single huge spike among zeros, or tiny values.
    func testZeroSpikyAndTinyColumns() throws {
        let pool = ThreadPool(threads: 2)
        for (t, type) in Self.quantizedTypes.enumerated() {
            let cols = MatmulProblem.columns(type), batch = 6
            let base = MatmulProblem(type, rows: 9, cols: cols, batch: batch, seed: UInt64(5000 + t))
            var x = base.x
            for i in 0..<(2 * cols) { x[i] = 0 }               // columns 0 and 1: zeros,
            x[cols + cols / 3] = 1e4                            // column 1: but for one spike
            for i in (3 * cols)..<(4 * cols) { x[i] *= 1e-6 }  // column 3: tiny
            let p = MatmulProblem(type: type, rows: base.rows, cols: cols, weights: base.weights, x: x)
            let reference = try Reference(p, batch: batch)
            for tier in tiers {
                Kernels.limitTier(to: tier)
                let y = try p.matmul(batch: batch, pool: pool)
                XCTAssertEqual(Array(y[0..<p.rows]), [Float](repeating: 0, count: p.rows), "\(type) zero column")
                try check(y, p, batch: batch, tier: tier, reference, "\(type) \(tier.name)")
            }
        }
    }

    /// Q, K, V and gate, up shaped products of mixed types through one dispatch (a float matrix among them keeps
    /// the per-pair dot in the same job) give exactly what one product per matrix gives, on every tier.
    func testSeveralMatricesOfMixedTypesEqualSeparateProducts() throws {
        for tier in tiers {
            Kernels.limitTier(to: tier)
            try checkMixedTypes(tier)
        }
    }

    private func checkMixedTypes(_ tier: KernelTier) throws {
        let cols = 512
        for (types, rows) in [([GGMLType.q5_0, .q8_0, .q8_0], [40, 9, 9]), ([.q4_K, .q6_K, .f16, .q5_1], [13, 21, 6, 33])] {
            let problems = types.indices.map { MatmulProblem(types[$0], rows: rows[$0], cols: cols, batch: 64, seed: UInt64(6000 + $0)) }
            let x = problems[0].x
            for batch in [5, 64] {
                for pool in [ThreadPool(threads: 1), ThreadPool(threads: 3)] {
                    let buffers = rows.map { UnsafeMutablePointer<Float>.allocate(capacity: batch * $0) }
                    defer { buffers.forEach { $0.deallocate() } }
                    try withExtendedLifetime(problems) {
                        let matrices = try problems.map { p in
                            try p.weights.withUnsafeBytes { try WeightMatrix(type: p.type, rows: p.rows, cols: cols, data: $0.baseAddress!) }
                        }
                        Kernels.matmul(matrices, x, batch: batch, into: buffers, pool: pool)
                    }
                    for (i, p) in problems.enumerated() {
                        let together = Array(UnsafeBufferPointer(start: buffers[i], count: batch * rows[i]))
                        let alone = try MatmulProblem(type: p.type, rows: p.rows, cols: cols, weights: p.weights, x: x)
                            .matmul(batch: batch, pool: pool)
                        XCTAssertEqual(together.map(\.bitPattern), alone.map(\.bitPattern),
                                       "\(p.type) \(tier.name) batch \(batch) threads \(pool.threadCount)")
                    }
                }
            }
        }
    }

    /// What continuous batching relies on: a product equals, bit for bit, the rows and columns of a larger one
    /// (rows starting mid-group, columns in batches of other sizes), and a column alone (batch 1, per-pair dot), on
    /// every tier.
    func testResultsDoNotDependOnTheirNeighbours() throws {
        for tier in tiers {
            Kernels.limitTier(to: tier)
            try checkNeighbours(tier)
        }
    }

    private func checkNeighbours(_ tier: KernelTier) throws {
        for type in Self.quantizedTypes {
            let cols = MatmulProblem.columns(type)
            let big = MatmulProblem(type, rows: 29, cols: cols, batch: 23, seed: 7000 + UInt64(type.rawValue))
            let all = try big.matmul(batch: 23, pool: ThreadPool(threads: 3))
            let rowBytes = try Kernels.rowBytes(type, count: cols)
            let part = MatmulProblem(type: type, rows: 11, cols: cols, weights: Array(big.weights[(5 * rowBytes)..<(16 * rowBytes)]),
                                     x: Array(big.x[(7 * cols)..<(13 * cols)]))
            let some = try part.matmul(batch: 6, pool: ThreadPool(threads: 2))
            let one = try MatmulProblem(type: type, rows: 29, cols: cols, weights: big.weights, x: Array(big.x[(9 * cols)..<(10 * cols)]))
                .matmul(batch: 1, pool: ThreadPool(threads: 1))
            for r in 0..<29 {
                XCTAssertEqual(one[r].bitPattern, all[9 * 29 + r].bitPattern, "\(type) \(tier.name) row \(r) of column 9 alone")
            }
            for b in 0..<6 {
                for r in 0..<11 {
                    XCTAssertEqual(some[b * 11 + r].bitPattern, all[(b + 7) * 29 + r + 5].bitPattern,
                                   "\(type) \(tier.name) row \(r + 5) column \(b + 7)")
                }
            }
        }
    }
}
