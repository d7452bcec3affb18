// Metadata values as read from a GGUF file.
//
// Arrays are stored as one typed Swift array per element type rather than as [GGUFValue]: a vocabulary of
// 262,144 strings then costs one String per token and no enum box around each.

/// One metadata value.
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case uint64(UInt64)
    case int64(Int64)
    case float32(Float)
    case float64(Double)
    case bool(Bool)
    case string(String)
    case array(GGUFArray)

    public var type: GGUFValueType {
        switch self {
        case .uint8: .uint8
        case .int8: .int8
        case .uint16: .uint16
        case .int16: .int16
        case .uint32: .uint32
        case .int32: .int32
        case .uint64: .uint64
        case .int64: .int64
        case .float32: .float32
        case .float64: .float64
        case .bool: .bool
        case .string: .string
        case .array: .array
        }
    }

    /// The type as a message names it: "u32", or "arr[str]" for an array.
    public var typeName: String {
        if case .array(let array) = self { return array.typeName }
        return type.name
    }
}

/// A metadata array: all elements share one type.
public enum GGUFArray: Sendable, Equatable {
    case uint8s([UInt8])
    case int8s([Int8])
    case uint16s([UInt16])
    case int16s([Int16])
    case uint32s([UInt32])
    case int32s([Int32])
    case uint64s([UInt64])
    case int64s([Int64])
    case float32s([Float])
    case float64s([Double])
    case bools([Bool])
    case strings([String])
    /// An array of arrays; each inner array may have its own element type and count.
    case arrays([GGUFArray])

    public var elementType: GGUFValueType {
        switch self {
        case .uint8s: .uint8
        case .int8s: .int8
        case .uint16s: .uint16
        case .int16s: .int16
        case .uint32s: .uint32
        case .int32s: .int32
        case .uint64s: .uint64
        case .int64s: .int64
        case .float32s: .float32
        case .float64s: .float64
        case .bools: .bool
        case .strings: .string
        case .arrays: .array
        }
    }

    public var count: Int {
        switch self {
        case .uint8s(let a): a.count
        case .int8s(let a): a.count
        case .uint16s(let a): a.count
        case .int16s(let a): a.count
        case .uint32s(let a): a.count
        case .int32s(let a): a.count
        case .uint64s(let a): a.count
        case .int64s(let a): a.count
        case .float32s(let a): a.count
        case .float64s(let a): a.count
        case .bools(let a): a.count
        case .strings(let a): a.count
        case .arrays(let a): a.count
        }
    }

    /// "arr[str]", "arr[arr]".
    public var typeName: String { "arr[\(elementType.name)]" }
}
