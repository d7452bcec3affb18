import GGUF
import Kernels

/// SplitMix64: a small seeded generator, so every run of the tests sees the same data.
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Roughly normal: the sum of four uniforms, centred.
    mutating func gaussian() -> Float {
        var s: Float = 0
        for _ in 0..<4 {
            s += Float.random(in: -1...1, using: &self)
        }
        return s * 0.87
    }
}

enum TestData {
    /// Every weight type, in GGML's order.
    static let weightTypes: [GGMLType] = [.f32, .f16, .bf16, .q4_0, .q4_1, .q5_0, .q5_1, .q8_0, .q4_K, .q5_K, .q6_K]

    /// Byte offsets of the fp16 scale fields inside one block of `type`.
    static func halfFields(_ type: GGMLType) -> [Int] {
        switch type {
        case .q4_0, .q5_0, .q8_0: return [0]
        case .q4_1, .q5_1, .q4_K, .q5_K: return [0, 2]
        case .q6_K: return [208]
        default: return []
        }
    }

    /// A well-formed row of `count` elements of `type`: random quants and packed scales, small random fp16
    /// block scales (either sign), or random floats for the float formats.
    static func weights(_ type: GGMLType, count: Int, rng: inout SeededRandom) -> [UInt8] {
        let bytes = try! Kernels.rowBytes(type, count: count)
        var out = [UInt8](repeating: 0, count: bytes)
        switch type {
        case .f32:
            out.withUnsafeMutableBytes { raw in
                for i in 0..<count { raw.storeBytes(of: rng.gaussian(), toByteOffset: 4 * i, as: Float.self) }
            }
        case .f16, .bf16:
            for i in 0..<count {
                let v = rng.gaussian()
                let h = type == .f16 ? Kernels.floatToHalf(v) : Kernels.floatToBFloat16(v)
                out[2 * i] = UInt8(h & 0xff)
                out[2 * i + 1] = UInt8(h >> 8)
            }
        default:
            for i in out.indices { out[i] = UInt8.random(in: 0...255, using: &rng) }
            let blockBytes = type.blockBytes
            for block in 0..<(bytes / blockBytes) {
                for field in halfFields(type) {
                    let magnitude = Float.random(in: 0.0005...0.03, using: &rng)
                    let h = Kernels.floatToHalf(Bool.random(using: &rng) ? magnitude : -magnitude)
                    out[block * blockBytes + field] = UInt8(h & 0xff)
                    out[block * blockBytes + field + 1] = UInt8(h >> 8)
                }
            }
        }
        return out
    }

    /// Awkward activations: mostly normal, some zeros, a few large outliers.
    static func activations(count: Int, rng: inout SeededRandom) -> [Float] {
        (0..<count).map { _ in
            let r = Float.random(in: 0..<1, using: &rng)
            if r < 0.1 { return 0 }
            if r < 0.12 { return rng.gaussian() * 40 }
            return rng.gaussian()
        }
    }

    static func dequantize(_ type: GGMLType, _ bytes: [UInt8], count: Int) -> [Float] {
        var out = [Float](repeating: 0, count: count)
        bytes.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { dst in
                try! Kernels.dequantize(type: type, src: raw.baseAddress!, count: count, into: dst.baseAddress!)
            }
        }
        return out
    }

    static func quantize(_ x: [Float], as type: GGMLType, path: KernelPath = .automatic) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: try Kernels.rowBytes(type, count: x.count))
        try x.withUnsafeBufferPointer { src in
            try out.withUnsafeMutableBytes { dst in
                try Kernels.quantizeRow(src.baseAddress!, count: x.count, as: type, into: dst.baseAddress!, path: path)
            }
        }
        return out
    }

    static func dot(_ type: GGMLType, count: Int, _ w: [UInt8], _ x: [UInt8], path: KernelPath = .automatic) throws -> Float {
        try w.withUnsafeBytes { wr in
            try x.withUnsafeBytes { xr in
                try Kernels.vecDot(type, count: count, weights: wr.baseAddress!, activations: xr.baseAddress!, path: path)
            }
        }
    }

    /// Sum of |w_i * x_i|: the scale for error budgets of a dot product that may cancel to near zero.
    static func magnitude(_ w: [Float], _ x: [Float]) -> Double {
        zip(w, x).reduce(0) { $0 + abs(Double($1.0) * Double($1.1)) }
    }
}
