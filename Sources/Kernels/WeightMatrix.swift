// A weight tensor as the products take it: its type, shape and raw bytes, checked once at load.
import CKernels
import GGUF

/// A row-major matrix of weights in one GGML tensor type, borrowed from memory that outlives it
/// (usually a mapped GGUF file). Row r starts at `data + r * rowBytes`.
public struct WeightMatrix: @unchecked Sendable {
    public let type: GGMLType
    public let rows: Int
    public let cols: Int
    public let data: UnsafeRawPointer
    public let rowBytes: Int

    /// Checks that the kernels handle `type` and that `cols` is a whole number of its blocks.
    public init(type: GGMLType, rows: Int, cols: Int, data: UnsafeRawPointer) throws(KernelError) {
        guard Kernels.isSupported(type) else {
            throw KernelError.unsupported(type)
        }
        guard rows >= 0 else {
            throw KernelError("weight matrix of type \(Kernels.name(of: type)) has a negative row count \(rows)")
        }
        let rowBytes = try Kernels.rowBytes(type, count: cols)
        guard cols > 0 else {
            throw KernelError("weight matrix of type \(Kernels.name(of: type)) has no columns")
        }
        guard !rows.multipliedReportingOverflow(by: rowBytes).overflow else {
            throw KernelError("weight matrix \(rows) x \(cols) of type \(Kernels.name(of: type)) is too large")
        }
        self.type = type
        self.rows = rows
        self.cols = cols
        self.data = data
        self.rowBytes = rowBytes
    }

    /// Bytes the whole matrix occupies.
    public var byteCount: Int { rows * rowBytes }
}
