// Response bodies of the OpenAI-compatible routes, shaped as OpenAI's so its clients work unchanged.
import FoundationEssentials

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
