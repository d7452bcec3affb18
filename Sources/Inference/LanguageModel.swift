// What every architecture provides: its shape, and a forward pass over a batch of tokens.
import GGUF
import Kernels

public struct ModelInfo: Sendable, Equatable {
    public let architecture: String
    public let name: String
    public let layers: Int
    public let embeddingLength: Int
    public let vocabularySize: Int
    public let trainedContextLength: Int
    public let parameterBytes: Int
}

public protocol LanguageModel: AnyObject {
    var info: ModelInfo { get }
    /// Width of one position's keys (and values) in the cache: kv heads × head dimension.
    var kvWidth: Int { get }
    /// Runs a batch of `tokens` made of `segments` (consecutive runs, each of one sequence, in order): each
    /// segment's tokens go at positions `cache.count ..< cache.count + count` of its cache, their keys and values
    /// are appended, and the logits of each segment's last `logitRows` tokens are written to `logits`
    /// ([rows][vocabulary], segments in order). Every row's result depends only on its own sequence.
    func forward(_ tokens: UnsafeBufferPointer<Int32>, segments: [BatchSegment], scratch: ForwardScratch,
                 logits: UnsafeMutablePointer<Float>, pool: ThreadPool)
    /// Bytes of scratch a batch of `batch` tokens needs, per buffer (see ForwardScratch).
    func scratchSizes(batch: Int, contextLength: Int) -> ForwardScratch.Sizes
}

/// Loads the architecture named in `general.architecture`.
public enum ModelLoader {
    public static let supportedArchitectures = ["gemma3", "llama", "qwen2"]

    public static func load(_ file: GGUFFile) throws(ModelError) -> any LanguageModel {
        let architecture: String
        do {
            architecture = try file.string("general.architecture")
        } catch {
            throw ModelError("\(error)")
        }
        switch architecture {
        case "gemma3": return try Gemma3(file: file)
        case "llama": return try LlamaDecoder.llama(file)
        case "qwen2": return try Qwen2.load(file)
        default:
            throw ModelError("architecture '\(architecture)' is not supported; supported: \(supportedArchitectures.joined(separator: ", "))")
        }
    }
}
