// `outpost inspect`: what a GGUF file holds, like gguf-dump but shorter.
import Arguments
import FoundationEssentials
import GGUF
import HTTP
import JSON
import Serving

public enum InspectCommand {
    public static func run(_ arguments: Arguments) throws -> Int32 {
        guard let path = arguments.value("model") else { throw UsageError("--model FILE is required") }
        let file = try ModelFile(path: path)
        let gguf = file.gguf
        if arguments.has("json") {
            print(json(gguf, path: path, withTensors: arguments.has("tensors")))
        } else {
            print(text(gguf, path: path, withTensors: arguments.has("tensors")))
        }
        return 0
    }

    static func text(_ gguf: GGUFFile, path: String, withTensors: Bool) -> String {
        let architecture = (try? gguf.string("general.architecture")) ?? "unknown"
        let totalBytes = gguf.tensors.reduce(0) { $0 + $1.byteCount }
        let parameters = gguf.tensors.reduce(0) { $0 + $1.elementCount }
        var lines = [
            "file:          \(path)",
            "GGUF version:  \(gguf.version), alignment \(gguf.alignment), data at byte \(gguf.dataOffset)",
            "architecture:  \(architecture)",
            "name:          \((try? gguf.string("general.name")) ?? "-")",
            "parameters:    \(parameters) (\((Double(parameters) / 1e6).fixed(1)) M), tensor data \((Double(totalBytes) / 1_048_576).fixed(1)) MiB",
            "context:       \((try? gguf.integer("\(architecture).context_length")).map(String.init) ?? "-")",
            "vocabulary:    \(((try? gguf.strings("tokenizer.ggml.tokens"))?.count).map(String.init) ?? "-") tokens (\((try? gguf.string("tokenizer.ggml.model")) ?? "-"))",
            "tensor types:  " + typeCounts(gguf).map { "\($0.name) \($0.count)" }.joined(separator: ", "),
            "",
            "metadata (\(gguf.metadata.count) keys):",
        ]
        for (key, value) in gguf.metadata {
            lines.append("  \(key) = \(summary(value))")
        }
        if withTensors {
            lines.append("")
            lines.append("tensors (\(gguf.tensors.count)):")
            for tensor in gguf.tensors {
                lines.append("  \(tensor.name)  \(tensor.type.name)  \(tensor.dimensions)  \(tensor.byteCount) bytes")
            }
        }
        return lines.joined(separator: "\n")
    }

    static func typeCounts(_ gguf: GGUFFile) -> [(name: String, count: Int)] {
        var counts: [String: Int] = [:]
        for tensor in gguf.tensors { counts[tensor.type.name, default: 0] += 1 }
        return counts.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }.map { ($0.key, $0.value) }
    }

    /// A value short enough for one line: arrays show their type, length and first elements.
    static func summary(_ value: GGUFValue) -> String {
        switch value {
        case .string(let s): return s.count > 120 ? JSONText.quote(String(s.prefix(120))) + "…" : JSONText.quote(s)
        case .array(let array): return "\(array.typeName) (\(array.count) elements)"
        case .bool(let b): return String(b)
        case .float32(let f): return String(f)
        case .float64(let d): return String(d)
        case .uint8(let v): return String(v)
        case .int8(let v): return String(v)
        case .uint16(let v): return String(v)
        case .int16(let v): return String(v)
        case .uint32(let v): return String(v)
        case .int32(let v): return String(v)
        case .uint64(let v): return String(v)
        case .int64(let v): return String(v)
        }
    }

    struct Description: Encodable {
        struct Tensor: Encodable {
            let name: String
            let type: String
            let dimensions: [Int]
            let bytes: Int
        }
        let file: String
        let version: UInt32
        let architecture: String
        let parameters: Int
        let tensorBytes: Int
        let tensorTypes: [String: Int]
        let metadata: [String: String]
        let tensors: [Tensor]?
        enum CodingKeys: String, CodingKey {
            case file, version, architecture, parameters, metadata, tensors
            case tensorBytes = "tensor_bytes"
            case tensorTypes = "tensor_types"
        }
    }

    static func json(_ gguf: GGUFFile, path: String, withTensors: Bool) -> String {
        let description = Description(
            file: path, version: gguf.version, architecture: (try? gguf.string("general.architecture")) ?? "unknown",
            parameters: gguf.tensors.reduce(0) { $0 + $1.elementCount },
            tensorBytes: gguf.tensors.reduce(0) { $0 + $1.byteCount },
            tensorTypes: Dictionary(uniqueKeysWithValues: typeCounts(gguf).map { ($0.name, $0.count) }),
            metadata: Dictionary(gguf.metadata.map { ($0.key, summary($0.value)) }, uniquingKeysWith: { a, _ in a }),
            tensors: withTensors ? gguf.tensors.map { .init(name: $0.name, type: $0.type.name, dimensions: $0.dimensions, bytes: $0.byteCount) } : nil)
        return JSONWriter.encode(description)
    }
}
