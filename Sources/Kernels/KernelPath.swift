import CKernels

/// Which implementation of a kernel to run.
public enum KernelPath: Sendable {
    /// AVX2 when the CPU has it and `Kernels.forceScalar` is off, else scalar.
    case automatic
    /// The scalar reference.
    case scalar
    /// The AVX2 kernel; calls throw where the CPU lacks AVX2+FMA+F16C.
    case avx2

    var code: Int32 {
        switch self {
        case .automatic: return Int32(CK_PATH_AUTO)
        case .scalar: return Int32(CK_PATH_SCALAR)
        case .avx2: return Int32(CK_PATH_AVX2)
        }
    }
}
