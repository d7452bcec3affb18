// Half and bfloat16 conversion for F16/BF16 tensors and the fp16 KV cache.
import CKernels

/// IEEE half and bfloat16 conversions (exact; narrowing rounds to nearest even).
extension Kernels {
    /// Converts `count` IEEE halves to floats (F16C when dispatched to AVX2; exact either way).
    public static func halvesToFloats(_ src: UnsafePointer<UInt16>, count: Int, into dst: UnsafeMutablePointer<Float>) {
        precondition(count >= 0, "halvesToFloats: negative count")
        ck_fp16_to_fp32_row(src, dst, Int64(count))
    }

    /// Converts `count` floats to IEEE halves, rounding to nearest even (F16C when dispatched to AVX2).
    public static func floatsToHalves(_ src: UnsafePointer<Float>, count: Int, into dst: UnsafeMutablePointer<UInt16>) {
        precondition(count >= 0, "floatsToHalves: negative count")
        ck_fp32_to_fp16_row(src, dst, Int64(count))
    }

    /// IEEE half to float, exact.
    public static func halfToFloat(_ h: UInt16) -> Float { ck_fp16_to_fp32(h) }
    /// Float to IEEE half, rounding to nearest even.
    public static func floatToHalf(_ f: Float) -> UInt16 { ck_fp32_to_fp16(f) }
    /// bfloat16 to float, exact.
    public static func bfloat16ToFloat(_ h: UInt16) -> Float { ck_bf16_to_fp32(h) }
    /// Float to bfloat16, rounding to nearest even.
    public static func floatToBFloat16(_ f: Float) -> UInt16 { ck_fp32_to_bf16(f) }
}
