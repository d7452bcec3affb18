// The ggml tensor element types a GGUF file may name, and the block geometry of each.
//
// Raw values are the on-disk type ids from ggml.h; the gaps (4, 5, 31–33, 36–38) are types ggml removed,
// and a file naming one of them is rejected. Block sizes and bytes follow ggml's type-traits table
// (checked against the `gguf` Python package's GGML_QUANT_SIZES in the tests).

/// A ggml tensor type: how many elements make up one block and how many bytes that block takes.
public enum GGMLType: UInt32, Sendable, CaseIterable {
    case f32 = 0
    case f16 = 1
    case q4_0 = 2
    case q4_1 = 3
    case q5_0 = 6
    case q5_1 = 7
    case q8_0 = 8
    case q8_1 = 9
    case q2_K = 10
    case q3_K = 11
    case q4_K = 12
    case q5_K = 13
    case q6_K = 14
    case q8_K = 15
    case iq2_xxs = 16
    case iq2_xs = 17
    case iq3_xxs = 18
    case iq1_s = 19
    case iq4_nl = 20
    case iq3_s = 21
    case iq2_s = 22
    case iq4_xs = 23
    case i8 = 24
    case i16 = 25
    case i32 = 26
    case i64 = 27
    case f64 = 28
    case iq1_m = 29
    case bf16 = 30
    case tq1_0 = 34
    case tq2_0 = 35
    case mxfp4 = 39
    case nvfp4 = 40
    case q1_0 = 41

    /// The name `gguf-dump` prints ("F32", "Q4_K", "IQ2_XXS", ...).
    public var name: String { Self.traits(self).name }

    /// Elements per block: 1 for the plain types, 32 for the legacy quants, 256 for the k-quants.
    public var blockSize: Int { Self.traits(self).blockSize }

    /// Bytes one block occupies on disk.
    public var blockBytes: Int { Self.traits(self).blockBytes }

    /// Bytes taken by `elements` consecutive elements (one row), or nil when `elements` is negative, not a
    /// whole number of blocks, or the size does not fit in `Int`.
    public func rowBytes(_ elements: Int) -> Int? {
        let traits = Self.traits(self)
        guard elements >= 0, elements % traits.blockSize == 0 else { return nil }
        let (bytes, overflow) = (elements / traits.blockSize).multipliedReportingOverflow(by: traits.blockBytes)
        return overflow ? nil : bytes
    }

    private static func traits(_ type: GGMLType) -> (name: String, blockSize: Int, blockBytes: Int) {
        switch type {
        case .f32: ("F32", 1, 4)
        case .f16: ("F16", 1, 2)
        case .q4_0: ("Q4_0", 32, 18)
        case .q4_1: ("Q4_1", 32, 20)
        case .q5_0: ("Q5_0", 32, 22)
        case .q5_1: ("Q5_1", 32, 24)
        case .q8_0: ("Q8_0", 32, 34)
        case .q8_1: ("Q8_1", 32, 40)
        case .q2_K: ("Q2_K", 256, 84)
        case .q3_K: ("Q3_K", 256, 110)
        case .q4_K: ("Q4_K", 256, 144)
        case .q5_K: ("Q5_K", 256, 176)
        case .q6_K: ("Q6_K", 256, 210)
        case .q8_K: ("Q8_K", 256, 292)
        case .iq2_xxs: ("IQ2_XXS", 256, 66)
        case .iq2_xs: ("IQ2_XS", 256, 74)
        case .iq3_xxs: ("IQ3_XXS", 256, 98)
        case .iq1_s: ("IQ1_S", 256, 50)
        case .iq4_nl: ("IQ4_NL", 32, 18)
        case .iq3_s: ("IQ3_S", 256, 110)
        case .iq2_s: ("IQ2_S", 256, 82)
        case .iq4_xs: ("IQ4_XS", 256, 136)
        case .i8: ("I8", 1, 1)
        case .i16: ("I16", 1, 2)
        case .i32: ("I32", 1, 4)
        case .i64: ("I64", 1, 8)
        case .f64: ("F64", 1, 8)
        case .iq1_m: ("IQ1_M", 256, 56)
        case .bf16: ("BF16", 1, 2)
        case .tq1_0: ("TQ1_0", 256, 54)
        case .tq2_0: ("TQ2_0", 256, 66)
        case .mxfp4: ("MXFP4", 32, 17)
        case .nvfp4: ("NVFP4", 64, 36)
        case .q1_0: ("Q1_0", 128, 18)
        }
    }
}

extension GGMLType: CustomStringConvertible {
    public var description: String { name }
}
