// The Swift face of the C kernels: quantised dot products and matrix-vector / matrix-matrix products.
import CKernels
import GGUF

/// Typed entry points over the C kernels (CKernels): matrix products, dequantization and CPU dispatch.
public enum Kernels {
    /// Whether `type` can be a weight: F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q4_K, Q5_K, Q6_K.
    public static func isSupported(_ type: GGMLType) -> Bool {
        ck_type_is_weight(type.rawValue) != 0
    }

    /// The tier the dispatched kernels take now: the best this CPU has, up to the cap `limitTier` set.
    public static var tier: KernelTier {
        KernelTier(rawValue: Int(ck_tier())) ?? .scalar
    }

    /// The tiers this CPU (and its OS) can run, slowest first; always starts with `.scalar`.
    public static var availableTiers: [KernelTier] {
        KernelTier.allCases.filter(\.isAvailable)
    }

    /// Whether the dispatched kernels take an AVX2 (or VNNI) tier now: the CPU has AVX2+FMA+F16C and no cap is
    /// below it.
    public static var usingAVX2: Bool { ck_using_avx2() != 0 }

    /// Whether the CPU offers AVX2+FMA+F16C, whatever `forceScalar` says.
    public static var avx2Available: Bool { ck_cpu_has_avx2() != 0 }

    /// Caps the tier every dispatched kernel takes at `tier` (the best one at or below it that the CPU has); nil
    /// lifts the cap. For tests and comparisons; process-wide.
    public static func limitTier(to tier: KernelTier?) {
        ck_force_path(Int32((tier ?? KernelTier.allCases.last!).rawValue))
    }

    /// Tests: treats `tiers` as missing from this CPU (as on a CPU without them) until called again; `[]`
    /// restores what the CPU has. The scalar tier cannot be hidden. Process-wide.
    public static func hideTiers(_ tiers: Set<KernelTier>) {
        ck_hide_tiers(Int32(tiers.reduce(0) { $0 | (1 << $1.rawValue) }))
    }

    /// Makes every dispatched kernel take the scalar reference path (for tests and comparisons), or lifts any cap;
    /// process-wide.
    public static func forceScalar(_ on: Bool) {
        ck_force_scalar(on ? 1 : 0)
    }

    /// y[b * w.rows + r] = dot(row r of w, row b of x) for b < batch: x holds batch rows of w.cols floats,
    /// y holds batch * w.rows floats. The rows of w are shared out over the pool's threads.
    public static func matmul(_ w: WeightMatrix, _ x: UnsafePointer<Float>, batch: Int,
                              into y: UnsafeMutablePointer<Float>, pool: ThreadPool) {
        precondition(batch >= 0, "matmul: negative batch \(batch)")
        let rc = ck_matmul(pool.handle, w.type.rawValue, w.data, Int64(w.rows), Int64(w.cols), w.rowBytes,
                           x, Int64(batch), y)
        precondition(rc == CK_OK, "matmul \(w.rows)x\(w.cols) \(name(of: w.type)) batch \(batch) failed: \(rc)")
    }

    /// Several products that read the same input (Q, K, V; gate, up) in one pool dispatch; the matrices must
    /// share the column count. `outputs[m]` receives [batch][weights[m].rows].
    public static func matmul(_ weights: [WeightMatrix], _ x: UnsafePointer<Float>, batch: Int,
                              into outputs: [UnsafeMutablePointer<Float>], pool: ThreadPool) {
        precondition(weights.count == outputs.count && !weights.isEmpty && weights.count <= Int(CK_MATMUL_MANY_MAX),
                     "matmul: \(weights.count) matrices for \(outputs.count) outputs")
        let cols = weights[0].cols
        precondition(weights.allSatisfy { $0.cols == cols }, "matmul: the matrices do not share their column count")
        let types = weights.map(\.type.rawValue)
        let data: [UnsafeRawPointer?] = weights.map { UnsafeRawPointer($0.data) }
        let rows = weights.map { Int64($0.rows) }
        let rowBytes = weights.map(\.rowBytes)
        let ys: [UnsafeMutablePointer<Float>?] = outputs
        let rc = ck_matmul_many(pool.handle, Int32(weights.count), types, data, rows, rowBytes, Int64(cols), x, Int64(batch), ys)
        precondition(rc == CK_OK, "matmul of \(weights.count) matrices, batch \(batch) failed: \(rc)")
    }

    /// Writes row `row` of w, dequantized, to the w.cols floats at `out` (embedding lookup).
    public static func dequantizeRow(_ w: WeightMatrix, row: Int, into out: UnsafeMutablePointer<Float>) {
        precondition(row >= 0 && row < w.rows, "dequantizeRow: row \(row) outside 0..<\(w.rows)")
        let rc = ck_get_row(w.type.rawValue, w.data, Int64(row), Int64(w.cols), w.rowBytes, out)
        precondition(rc == CK_OK, "dequantizeRow failed: \(rc)")
    }

    /// Dequantizes `count` elements of `type` stored at `src` into `out`.
    public static func dequantize(type: GGMLType, src: UnsafeRawPointer, count: Int,
                                  into out: UnsafeMutablePointer<Float>) throws(KernelError) {
        guard isSupported(type) else {
            throw KernelError.unsupported(type)
        }
        _ = try rowBytes(type, count: count)
        let rc = ck_dequantize_row(type.rawValue, src, out, Int64(count))
        precondition(rc == CK_OK, "dequantize failed: \(rc)")
    }

    /// Bytes that `count` elements of `type` occupy; throws unless count is a whole number of blocks.
    public static func rowBytes(_ type: GGMLType, count: Int) throws(KernelError) -> Int {
        let size = blockSize(type)
        guard size > 0 else {
            throw KernelError.unsupported(type)
        }
        guard count >= 0, count % size == 0 else {
            throw KernelError.blocks(type, count: count, what: "element count")
        }
        let bytes = ck_row_bytes(type.rawValue, Int64(count))
        guard bytes > 0 || count == 0 else {
            throw KernelError("\(count) elements of \(name(of: type)) overflow the address space")
        }
        return bytes
    }

    /// Elements per block of `type` as the kernels know it; 0 for a type they do not know.
    static func blockSize(_ type: GGMLType) -> Int {
        Int(ck_block_size(type.rawValue))
    }

    /// GGML's name for a type ("F32", "Q4_K").
    static func name(of type: GGMLType) -> String {
        type.name
    }
}
