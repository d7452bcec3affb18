// Row-level kernels (activation formats, quantising rows, per-row dot products): what the products are built from.
import CKernels
import GGUF

extension Kernels {
    /// The activation format a weight type is multiplied with (llama.cpp's vec_dot_type): Q8_0 for Q4_0, Q5_0,
    /// Q8_0; Q8_1 for Q4_1, Q5_1; Q8_K for the K formats; the type itself for F32, F16, BF16.
    public static func activationType(for weight: GGMLType) throws(KernelError) -> GGMLType {
        let raw = ck_vec_dot_type(weight.rawValue)
        guard raw >= 0, let type = GGMLType(rawValue: UInt32(raw)) else {
            throw KernelError.unsupported(weight)
        }
        return type
    }

    /// Converts `count` floats to activation format `type` (F32, F16, BF16, Q8_0, Q8_1, Q8_K) at `dst`,
    /// which must hold `rowBytes(type, count:)` bytes.
    public static func quantizeRow(_ src: UnsafePointer<Float>, count: Int, as type: GGMLType,
                                   into dst: UnsafeMutableRawPointer,
                                   path: KernelPath = .automatic) throws(KernelError) {
        guard ck_type_is_activation(type.rawValue) != 0 else {
            throw KernelError.notActivation(type)
        }
        _ = try rowBytes(type, count: count)
        try check(ck_quantize_row(path.code, type.rawValue, src, dst, Int64(count)))
    }

    /// dot(w, x) over `count` elements: `weights` in `type`, `activations` in `activationType(for: type)`.
    public static func vecDot(_ type: GGMLType, count: Int, weights: UnsafeRawPointer,
                              activations: UnsafeRawPointer, path: KernelPath = .automatic) throws(KernelError) -> Float {
        guard isSupported(type) else {
            throw KernelError.unsupported(type)
        }
        _ = try rowBytes(type, count: count)
        var out: Float = 0
        try check(ck_vec_dot(path.code, type.rawValue, Int64(count), weights, activations, &out))
        return out
    }

    private static func check(_ rc: Int32) throws(KernelError) {
        switch rc {
        case Int32(CK_OK): return
        case Int32(CK_ENOCPU): throw KernelError("this CPU (or its OS) lacks the instructions of the kernel path asked for")
        default: throw KernelError("kernel refused its arguments (code \(rc))")
        }
    }
}
