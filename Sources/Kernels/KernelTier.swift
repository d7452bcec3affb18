// The CPU feature tiers the C kernels are built for, detected at run time and capped by OUTPOST_KERNELS.
import CKernels

/// A family of kernel implementations, each needing more of the CPU than the one before (ck_kernels.h): the
/// dispatched kernels take the best tier the CPU has, which tests and benchmarks can cap (`Kernels.limitTier`).
/// Every product of the AVX2, AVX-VNNI and AVX512-VNNI tiers is the same float, bit for bit; the scalar reference
/// sums in another order and agrees to rounding.
public enum KernelTier: Int, CaseIterable, Comparable, Sendable {
    /// The portable reference.
    case scalar = 0
    /// AVX2 + FMA + F16C.
    case avx2 = 1
    /// AVX2 and the VEX-encoded VNNI instructions (vpdpbusd, vpdpwssd).
    case avxVNNI = 2
    /// AVX2 and AVX512 F, BW, VL and VNNI: EVEX-encoded VNNI, and 512-bit tiled kernels.
    case avx512VNNI = 3

    /// "scalar", "avx2", "avx-vnni" or "avx512-vnni", as `outpost bench` reports it.
    public var name: String {
        String(cString: ck_tier_name(Int32(rawValue)))
    }

    /// The tier called `name`, or nil.
    public init?(name: String) {
        guard let tier = Self.allCases.first(where: { $0.name == name }) else {
            return nil
        }
        self = tier
    }

    /// Whether this CPU (and its OS) can run the tier's kernels.
    public var isAvailable: Bool {
        ck_cpu_has_tier(Int32(rawValue)) != 0
    }

    public static func < (a: KernelTier, b: KernelTier) -> Bool {
        a.rawValue < b.rawValue
    }
}
