// The choice between a kernel's scalar reference and its SIMD implementation.
import CKernels

/// Which implementation of a kernel to run.
public enum KernelPath: Sendable {
    /// The tier the dispatched kernels take now (`Kernels.tier`).
    case automatic
    /// The scalar reference.
    case scalar
    /// The AVX2 kernels; calls throw where the CPU lacks AVX2+FMA+F16C.
    case avx2
    /// The AVX-VNNI kernels (AVX2's for the float formats and quantizers); calls throw where the CPU lacks AVX-VNNI.
    case avxVNNI
    /// The AVX512-VNNI kernels (AVX2's for the float formats and quantizers); calls throw where the CPU lacks them.
    case avx512VNNI

    /// The path of a tier's kernels.
    public init(_ tier: KernelTier) {
        switch tier {
        case .scalar: self = .scalar
        case .avx2: self = .avx2
        case .avxVNNI: self = .avxVNNI
        case .avx512VNNI: self = .avx512VNNI
        }
    }

    var code: Int32 {
        switch self {
        case .automatic: return Int32(CK_PATH_AUTO)
        case .scalar: return Int32(CK_PATH_SCALAR)
        case .avx2: return Int32(CK_PATH_AVX2)
        case .avxVNNI: return Int32(CK_PATH_AVX_VNNI)
        case .avx512VNNI: return Int32(CK_PATH_AVX512_VNNI)
        }
    }
}
