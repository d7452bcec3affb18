import GGUF
import Kernels
import XCTest

/// The kernel tiers: names, the cap tests and benchmarks set, and the promise the batch-independence of results
/// rests on -- every SIMD tier's dot product is the AVX2 one, bit for bit (the tiled products are held to the same in
/// TiledMatmulTests), on ragged lengths, random data and the extremes of every format's integers.
final class KernelTierTests: XCTestCase {
    override func tearDown() {
        Kernels.limitTier(to: nil)
    }

    /// The tiers above AVX2 this CPU has: what the bitwise comparisons run on.
    private func vnniTiers() throws -> [KernelTier] {
        let tiers = Kernels.availableTiers.filter { $0 > .avx2 }
        try XCTSkipIf(tiers.isEmpty, "this CPU has no VNNI tier; only scalar and AVX2 kernels run here")
        return tiers
    }

    func testNamesRoundTrip() {
        XCTAssertEqual(KernelTier.allCases.map(\.name), ["scalar", "avx2", "avx-vnni", "avx512-vnni"])
        for tier in KernelTier.allCases {
            XCTAssertEqual(KernelTier(name: tier.name), tier)
        }
        XCTAssertNil(KernelTier(name: "avx512"))
    }

    /// A cap gives the best tier at or below it that the CPU has; lifting it, or forceScalar(false), the best of all.
    func testTheCapPicksTheBestAvailableTierBelowIt() {
        let available = Kernels.availableTiers
        XCTAssertEqual(available.first, .scalar)
        XCTAssertEqual(available.contains(.avx2), Kernels.avx2Available)
        for cap in KernelTier.allCases {
            Kernels.limitTier(to: cap)
            let expected = available.last { $0 <= cap }!
            XCTAssertEqual(Kernels.tier, expected, "cap \(cap.name)")
            XCTAssertEqual(Kernels.usingAVX2, expected >= .avx2, "cap \(cap.name)")
        }
        Kernels.limitTier(to: nil)
        XCTAssertEqual(Kernels.tier, available.last)
        Kernels.forceScalar(true)
        XCTAssertEqual(Kernels.tier, .scalar)
        Kernels.forceScalar(false)
        XCTAssertEqual(Kernels.tier, available.last)
    }

    /// Asking for a tier the CPU lacks is an error, not a crash or a silent fallback; dispatch falls back to the
    /// best tier left. Tiers this CPU has are hidden to stand for a CPU without them.
    func testPathsOfMissingTiersThrowAndDispatchFallsBack() throws {
        defer { Kernels.hideTiers([]) }
        let w = [UInt8](repeating: 0, count: GGMLType.q8_0.blockBytes)
        for hidden in KernelTier.allCases where hidden > .scalar {
            let missing = Set(KernelTier.allCases.filter { $0 >= hidden })
            Kernels.hideTiers(missing)
            for tier in missing {
                XCTAssertFalse(tier.isAvailable, tier.name)
                XCTAssertThrowsError(try TestData.dot(.q8_0, count: 32, w, w, path: KernelPath(tier)), tier.name)
            }
            XCTAssertLessThan(Kernels.tier, hidden, "hiding \(hidden.name) and above")
            XCTAssertEqual(Kernels.tier, Kernels.availableTiers.last)
            XCTAssertEqual(try TestData.dot(.q8_0, count: 32, w, w, path: .automatic), 0)
        }
        Kernels.hideTiers([])
        XCTAssertEqual(Kernels.availableTiers.count, KernelTier.allCases.filter(\.isAvailable).count)
    }

    /// Lengths in blocks that leave remainders after every unrolled loop (odd block counts for the 32-wide formats'
    /// two accumulators).
    private func lengths(_ type: GGMLType) -> [Int] {
        switch type.blockSize {
        case 1: return [1, 7, 8, 9, 33, 255, 640]
        case 32: return [1, 2, 3, 7, 9, 20, 72].map { $0 * 32 }
        default: return [1, 2, 3, 9].map { $0 * 256 }
        }
    }

    func testEveryTierGivesTheAVX2DotProductBitForBit() throws {
        let tiers = try vnniTiers()
        var rng = SeededRandom(seed: 17)
        for type in TestData.weightTypes {
            let act = try Kernels.activationType(for: type)
            for count in lengths(type) {
                for trial in 0..<3 {
                    let wq = TestData.weights(type, count: count, rng: &rng)
                    let xq = try TestData.quantize(TestData.activations(count: count, rng: &rng), as: act, path: .avx2)
                    let avx2 = try TestData.dot(type, count: count, wq, xq, path: .avx2)
                    for tier in tiers {
                        let y = try TestData.dot(type, count: count, wq, xq, path: KernelPath(tier))
                        XCTAssertEqual(y.bitPattern, avx2.bitPattern, "\(type) n=\(count) trial \(trial) \(tier.name): \(y) vs \(avx2)")
                    }
                }
            }
        }
    }

    /// Every quant byte (and K-format scale byte) at one value -- 0x80 makes Q8_0's weights -128 and Q6_K's scales
    /// -128, 0xff the largest unsigned quants and 6-bit scales -- against activations at full scale, all one sign or
    /// alternating: the largest integer sums each format can form, where a saturating or wrapping step would show.
    func testExtremeIntegersAgreeOnEveryTier() throws {
        let tiers = try vnniTiers()
        let pool = ThreadPool(threads: 2)
        for type in TiledMatmulTests.quantizedTypes {
            let count = 2 * type.blockSize * (type.blockSize == 32 ? 3 : 1), rows = 9, batch = 6
            for fill: UInt8 in [0x00, 0x55, 0x7f, 0x80, 0xff] {
                var weights: [UInt8] = []
                for r in 0..<rows {
                    var rng = SeededRandom(seed: UInt64(r))
                    var row = TestData.weights(type, count: count, rng: &rng)
                    let halves = Set(TestData.halfFields(type).flatMap { [$0, $0 + 1] })
                    for i in row.indices where !halves.contains(i % type.blockBytes) {
                        row[i] = fill
                    }
                    weights += row
                }
                // columns: all +1, all -1, alternating, and alternating with one element 100x the rest
                var x: [Float] = []
                for b in 0..<batch {
                    x += (0..<count).map { i -> Float in
                        switch b % 4 {
                        case 0: return 1
                        case 1: return -1
                        case 2: return i % 2 == 0 ? 1 : -1
                        default: return i == 5 ? 100 : (i % 2 == 0 ? 1 : -1)
                        }
                    }
                }
                let p = MatmulProblem(type: type, rows: rows, cols: count, weights: weights, x: x)
                let what = "\(type) fill \(String(fill, radix: 16))"
                let perPair = try p.expected(batch: batch, path: .avx2)
                Kernels.limitTier(to: .avx2)
                let tiledAVX2 = try p.matmul(batch: batch, pool: pool)
                XCTAssertEqual(tiledAVX2.map(\.bitPattern), perPair.map(\.bitPattern), "\(what) avx2 tiled")
                for tier in tiers {
                    Kernels.limitTier(to: tier)
                    XCTAssertEqual(try p.matmul(batch: batch, pool: pool).map(\.bitPattern), perPair.map(\.bitPattern),
                                   "\(what) \(tier.name) tiled")
                    XCTAssertEqual(try p.expected(batch: batch, path: KernelPath(tier)).map(\.bitPattern),
                                   perPair.map(\.bitPattern), "\(what) \(tier.name) per pair")
                }
            }
        }
    }
}
