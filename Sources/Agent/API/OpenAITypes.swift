// Request and response bodies of the OpenAI-compatible routes, shaped as OpenAI's so its clients work unchanged.
import FoundationEssentials

/// A string or an array of strings (OpenAI accepts both for `prompt` and `stop`).
enum StringOrStrings: Decodable, Sendable {
    case one(String)
    case many([String])

    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .one(text)
        } else if let list = try? container.decode([String].self) {
            self = .many(list)
        } else {
            throw DecodingError.typeMismatch(StringOrStrings.self, .init(codingPath: decoder.codingPath,
                                                                        debugDescription: "a string or an array of strings"))
        }
    }

    var all: [String] {
        switch self {
        case .one(let s): return [s]
        case .many(let list): return list
        }
    }
}

/// Sampling fields shared by both routes.
struct SamplingFields: Decodable, Sendable {
    var max_tokens: Int?
    var max_completion_tokens: Int?
    var temperature: Float?
    var top_p: Float?
    var top_k: Int?
    var min_p: Float?
    var presence_penalty: Float?
    var frequency_penalty: Float?
    var repeat_penalty: Float?
    var seed: UInt64?
    var stop: StringOrStrings?
    var stream: Bool?
    var n: Int?
    var logprobs: LogprobsField?
    var top_logprobs: Int?
}

/// `logprobs` is an integer on /v1/completions and a boolean on /v1/chat/completions.
enum LogprobsField: Decodable, Sendable {
    case flag(Bool)
    case count(Int)
    init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let flag = try? container.decode(Bool.self) { self = .flag(flag) } else { self = .count(try container.decode(Int.self)) }
    }
    var requested: Bool {
        switch self {
        case .flag(let f): return f
        case .count(let c): return c > 0
        }
    }
}

struct CompletionRequest: Decodable, Sendable {
    let model: String
    let prompt: StringOrStrings
}

struct ChatRequest: Decodable, Sendable {
    struct Message: Decodable, Sendable {
        let role: String
        let content: String?
    }
    let model: String
    let messages: [Message]
}

struct Usage: Encodable {
    let prompt_tokens: Int
    let completion_tokens: Int
    let total_tokens: Int
}

struct CompletionResponse: Encodable {
    struct Choice: Encodable {
        let index: Int
        let text: String
        let logprobs: CompletionLogprobs?
        let finish_reason: String?
    }
    let id: String
    let object: String
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage?
}

struct ChatResponse: Encodable {
    struct Message: Encodable {
        let role: String
        let content: String
    }
    struct Choice: Encodable {
        let index: Int
        let message: Message
        let logprobs: ChatLogprobs?
        let finish_reason: String
    }
    let id: String
    let object: String
    let created: Int
    let model: String
    let choices: [Choice]
    let usage: Usage
}

struct ChatChunk: Encodable {
    struct Delta: Encodable {
        let role: String?
        let content: String?
    }
    struct Choice: Encodable {
        let index: Int
        let delta: Delta
        let logprobs: ChatLogprobs?
        let finish_reason: String?
    }
    let id: String
    let object: String
    let created: Int
    let model: String
    let choices: [Choice]
}

/// Log-probabilities in /v1/completions' (legacy) shape: one entry per generated token.
struct CompletionLogprobs: Encodable {
    var tokens: [String] = []
    var token_logprobs: [Float] = []
    var top_logprobs: [[String: Float]] = []
    var text_offset: [Int] = []
}

/// Log-probabilities in /v1/chat/completions' shape.
struct ChatLogprobs: Encodable {
    struct Top: Encodable {
        let token: String
        let logprob: Float
        let bytes: [UInt8]
    }
    struct Entry: Encodable {
        let token: String
        let logprob: Float
        let bytes: [UInt8]
        let top_logprobs: [Top]
    }
    var content: [Entry] = []
}

struct ModelList: Encodable {
    struct Entry: Encodable {
        let id: String
        let object: String
        let created: Int
        let owned_by: String
        /// Known once the model is loaded (a model without preload is listed before its first use).
        let context_length: Int?
        let architecture: String?
        let loaded: Bool
    }
    let object: String
    let data: [Entry]
}

enum OpenAIJSON {
    /// Decodes a body, turning decoding failures into one sentence naming the field.
    static func decode<T: Decodable>(_ type: T.Type, from body: [UInt8]) throws(CLIError) -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch let error as DecodingError {
            throw CLIError(describe(error))
        } catch {
            throw CLIError("invalid request body: \(error)")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context)
            return "missing field '\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)'"
        case .typeMismatch(let type, let context):
            return "field '\(path(context))' has the wrong type: expected \(typeName(type))"
        case .valueNotFound(let type, let context):
            return "field '\(path(context))' is null: expected \(typeName(type))"
        case .dataCorrupted(let context):
            let where_ = path(context)
            return where_.isEmpty ? "the body is not valid JSON" : "field '\(where_)' is invalid: \(context.debugDescription)"
        @unknown default:
            return "invalid request body"
        }
    }

    static func typeName(_ type: Any.Type) -> String {
        switch "\(type)" {
        case "String": return "a string"
        case "Int", "UInt64": return "an integer"
        case "Float", "Double": return "a number"
        case "Bool": return "a boolean"
        case "StringOrStrings": return "a string or an array of strings"
        case let other where other.hasPrefix("Array"): return "an array"
        default: return "\(type)"
        }
    }
}
