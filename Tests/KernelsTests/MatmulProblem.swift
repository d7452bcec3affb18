import GGUF
import Kernels

/// A weight matrix of random well-formed rows and a batch of awkward activations, with the references a matrix
/// product is checked against: per-row dot products on a chosen path, and fp64 dots of the dequantized weights.
struct MatmulProblem {
    let type: GGMLType
    let rows: Int
    let cols: Int
    let weights: [UInt8]
    let x: [Float] // batch x cols

    init(type: GGMLType, rows: Int, cols: Int, weights: [UInt8], x: [Float]) {
        self.type = type
        self.rows = rows
        self.cols = cols
        self.weights = weights
        self.x = x
    }

    init(_ type: GGMLType, rows: Int, cols: Int, batch: Int, seed: UInt64) {
        var rng = SeededRandom(seed: seed)
        var weights: [UInt8] = []
        for _ in 0..<rows {
            weights += TestData.weights(type, count: cols, rng: &rng)
        }
        self.init(type: type, rows: rows, cols: cols, weights: weights,
                  x: TestData.activations(count: batch * cols, rng: &rng))
    }

    /// A column count of a few blocks for `type`.
    static func columns(_ type: GGMLType) -> Int {
        switch type.blockSize {
        case 1: return 72
        case 32: return 96
        default: return 512
        }
    }

    func matmul(batch: Int, pool: ThreadPool) throws -> [Float] {
        var y = [Float](repeating: .nan, count: batch * rows)
        try weights.withUnsafeBytes { raw in
            let w = try WeightMatrix(type: type, rows: rows, cols: cols, data: raw.baseAddress!)
            Kernels.matmul(w, x, batch: batch, into: &y, pool: pool)
        }
        return y
    }

    private func row(_ r: Int) -> [UInt8] {
        let rowBytes = try! Kernels.rowBytes(type, count: cols)
        return Array(weights[(r * rowBytes)..<((r + 1) * rowBytes)])
    }

    private func column(_ b: Int) -> [Float] {
        Array(x[(b * cols)..<((b + 1) * cols)])
    }

    /// y[b*rows + r] from single dot products on the given path.
    func expected(batch: Int, path: KernelPath) throws -> [Float] {
        let act = try Kernels.activationType(for: type)
        var y = [Float](repeating: 0, count: batch * rows)
        for b in 0..<batch {
            let xq = try TestData.quantize(column(b), as: act, path: path)
            for r in 0..<rows {
                y[b * rows + r] = try TestData.dot(type, count: cols, row(r), xq, path: path)
            }
        }
        return y
    }

    /// Sum of |w_i x_i| for each output: the scale of its error budget.
    func magnitudes(batch: Int) -> [Double] {
        let rowsF = (0..<rows).map { TestData.dequantize(type, row($0), count: cols) }
        return (0..<(batch * rows)).map { i in TestData.magnitude(rowsF[i % rows], column(i / rows)) }
    }

    /// How far quantizing the activations may move each product from the fp64 one: every activation becomes q*d
    /// with d = amax/127 over 32 elements (Q8_0, Q8_1) or 256 (Q8_K), so moves by at most d/2, plus |q| <= 127
    /// times the fp16 rounding of d (Q8_0, Q8_1: 2^-11 of d, or half the subnormal step 2^-24); summed over |w_i|.
    func activationErrorBound(batch: Int) throws -> [Double] {
        let act = try Kernels.activationType(for: type)
        let block = act.blockSize
        let rowsF = (0..<rows).map { TestData.dequantize(type, row($0), count: cols) }
        return (0..<(batch * rows)).map { i in
            let w = rowsF[i % rows], x = column(i / rows)
            var bound = 0.0
            for start in stride(from: 0, to: cols, by: block) {
                let d = Double(x[start..<(start + block)].map { abs($0) }.max() ?? 0) / 127
                let halfRounding = act == .q8_K ? 0 : max(d * 0x1p-11, 0x1p-25)
                bound += (d / 2 + 127 * halfRounding) * w[start..<(start + block)].reduce(0.0) { $0 + abs(Double($1)) }
            }
            return bound
        }
    }

    /// The products in fp64 of the dequantized weights and the float activations.
    func exact(batch: Int) -> [Double] {
        let rowsF = (0..<rows).map { TestData.dequantize(type, row($0), count: cols) }
        return (0..<(batch * rows)).map { i in
            zip(rowsF[i % rows], column(i / rows)).reduce(0) { $0 + Double($1.0) * Double($1.1) }
        }
    }
}
