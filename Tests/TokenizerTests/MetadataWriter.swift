// Writes GGUF files with metadata only: small synthetic vocabularies, and llama.cpp's vocab files with one key
// changed.
import GGUF

enum MetadataWriter {
    /// A GGUF v3 file with `metadata` in order and no tensors.
    static func file(_ metadata: [(String, GGUFValue)]) -> [UInt8] {
        var out: [UInt8] = Array("GGUF".utf8)
        append(UInt32(3), to: &out)
        append(UInt64(0), to: &out)
        append(UInt64(metadata.count), to: &out)
        for (key, value) in metadata {
            string(key, to: &out)
            append(value.type.rawValue, to: &out)
            payload(value, to: &out)
        }
        return out
    }

    /// A vocabulary from `tokens` (text, score, token_type) plus `extra` keys.
    static func vocabulary(
        model: String, tokens: [(String, Float, Int32)], extra: [(String, GGUFValue)] = []
    ) -> [UInt8] {
        file([
            ("general.architecture", .string("llama")),
            ("tokenizer.ggml.model", .string(model)),
            ("tokenizer.ggml.tokens", .array(.strings(tokens.map(\.0)))),
            ("tokenizer.ggml.scores", .array(.float32s(tokens.map(\.1)))),
            ("tokenizer.ggml.token_type", .array(.int32s(tokens.map(\.2)))),
        ] + extra)
    }

    private static func append<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func string(_ s: String, to out: inout [UInt8]) {
        append(UInt64(s.utf8.count), to: &out)
        out.append(contentsOf: s.utf8)
    }

    private static func payload(_ value: GGUFValue, to out: inout [UInt8]) {
        switch value {
        case .uint8(let v): append(v, to: &out)
        case .int8(let v): append(v, to: &out)
        case .uint16(let v): append(v, to: &out)
        case .int16(let v): append(v, to: &out)
        case .uint32(let v): append(v, to: &out)
        case .int32(let v): append(v, to: &out)
        case .uint64(let v): append(v, to: &out)
        case .int64(let v): append(v, to: &out)
        case .float32(let v): append(v.bitPattern, to: &out)
        case .float64(let v): append(v.bitPattern, to: &out)
        case .bool(let v): out.append(v ? 1 : 0)
        case .string(let s): string(s, to: &out)
        case .array(let array): arrayPayload(array, to: &out)
        }
    }

    private static func arrayPayload(_ array: GGUFArray, to out: inout [UInt8]) {
        append(array.elementType.rawValue, to: &out)
        append(UInt64(array.count), to: &out)
        switch array {
        case .uint8s(let a): a.forEach { append($0, to: &out) }
        case .int8s(let a): a.forEach { append($0, to: &out) }
        case .uint16s(let a): a.forEach { append($0, to: &out) }
        case .int16s(let a): a.forEach { append($0, to: &out) }
        case .uint32s(let a): a.forEach { append($0, to: &out) }
        case .int32s(let a): a.forEach { append($0, to: &out) }
        case .uint64s(let a): a.forEach { append($0, to: &out) }
        case .int64s(let a): a.forEach { append($0, to: &out) }
        case .float32s(let a): a.forEach { append($0.bitPattern, to: &out) }
        case .float64s(let a): a.forEach { append($0.bitPattern, to: &out) }
        case .bools(let a): a.forEach { out.append($0 ? 1 : 0) }
        case .strings(let a): a.forEach { string($0, to: &out) }
        case .arrays(let a): a.forEach { arrayPayload($0, to: &out) }
        }
    }
}
