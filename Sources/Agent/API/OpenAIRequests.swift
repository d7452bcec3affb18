// Request bodies of the OpenAI-compatible routes, read from strictly parsed JSON with messages that name the
// field. Fields we do not implement are refused, so a client never believes it got what it asked for.
import JSON

/// A string or an array of strings (OpenAI accepts both for `prompt` and `stop`).
enum StringOrStrings: Sendable {
    case one(String)
    case many([String])

    init?(_ body: JSONObjectReader, _ key: String) throws(JSONFieldError) {
        guard let value = body.value(key) else { return nil }
        switch value {
        case .string(let text):
            self = .one(text)
        case .array(let elements):
            var list: [String] = []
            for (i, element) in elements.enumerated() {
                guard case .string(let text) = element else {
                    throw JSONFieldError("field '\(body.name(key)).\(i)' has the wrong type: expected a string, got \(element.kindName)")
                }
                list.append(text)
            }
            self = .many(list)
        default:
            throw body.wrongType(key, expected: "a string or an array of strings", got: value)
        }
    }

    var all: [String] {
        switch self {
        case .one(let s): return [s]
        case .many(let list): return list
        }
    }
}

/// `logprobs` is an integer on /v1/completions and a boolean on /v1/chat/completions.
enum LogprobsField: Sendable {
    case flag(Bool)
    case count(Int)

    init?(_ body: JSONObjectReader) throws(JSONFieldError) {
        guard let value = body.value("logprobs") else { return nil }
        if case .bool(let flag) = value {
            self = .flag(flag)
        } else if case .number = value {
            self = .count(try body.int("logprobs") ?? 0)
        } else {
            throw body.wrongType("logprobs", expected: "a boolean or an integer", got: value)
        }
    }
}

/// Sampling fields shared by both routes.
struct SamplingFields: Sendable {
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

    init(_ body: JSONObjectReader) throws(JSONFieldError) {
        max_tokens = try body.int("max_tokens")
        max_completion_tokens = try body.int("max_completion_tokens")
        temperature = try body.float("temperature")
        top_p = try body.float("top_p")
        top_k = try body.int("top_k")
        min_p = try body.float("min_p")
        presence_penalty = try body.float("presence_penalty")
        frequency_penalty = try body.float("frequency_penalty")
        repeat_penalty = try body.float("repeat_penalty")
        seed = try body.uint64("seed")
        stop = try StringOrStrings(body, "stop")
        stream = try body.bool("stream")
        n = try body.int("n")
        logprobs = try LogprobsField(body)
        top_logprobs = try body.int("top_logprobs")
    }
}

/// A parsed /v1/completions or /v1/chat/completions body.
struct CompletionRequestBody: Sendable {
    let model: String
    /// The chat turns (chat route) or nil.
    let messages: [ChatTurn]?
    /// The raw prompt (completions route) or nil.
    let prompt: String?
    let fields: SamplingFields

    struct ChatTurn: Sendable {
        let role: String
        let content: String
    }

    /// Roles a chat turn may have; OpenAI's "developer" is its newer name for "system".
    static let roles = ["system", "developer", "user", "assistant"]

    init(_ raw: [UInt8], chat: Bool) throws(JSONFieldError) {
        let body = try JSONObjectReader(parsing: raw)
        try Self.refuseUnsupported(body, chat: chat)
        model = try body.required("model", body.string)
        fields = try SamplingFields(body)
        if chat {
            let list = try body.required("messages", body.array)
            guard !list.isEmpty else { throw JSONFieldError("'messages' must not be empty") }
            var turns: [ChatTurn] = []
            for (i, element) in list.enumerated() {
                turns.append(try Self.turn(JSONObjectReader(element, path: "messages.\(i)")))
            }
            messages = turns
            prompt = nil
        } else {
            let prompts = try body.required("prompt") { (key: String) throws(JSONFieldError) in try StringOrStrings(body, key) }.all
            guard prompts.count == 1 else {
                throw JSONFieldError("'prompt' must be one string (got \(prompts.count)); batch prompts are not supported")
            }
            prompt = prompts[0]
            messages = nil
        }
    }

    /// One message: a known role and text content, given as a string or as an array of text parts (joined in
    /// order, as llama-server does for a template without typed content).
    private static func turn(_ message: JSONObjectReader) throws(JSONFieldError) -> ChatTurn {
        let role = try message.required("role", message.string)
        guard roles.contains(role) else {
            throw JSONFieldError("field '\(message.name("role"))' must be one of \(roles.joined(separator: ", ")), got '\(role)'"
                                 + (role == "tool" || role == "function" ? " (tool calls are not supported)" : ""))
        }
        if message.value("tool_calls") != nil || message.value("function_call") != nil {
            throw JSONFieldError("field '\(message.name("tool_calls"))' is not supported: this agent does not implement tool calls")
        }
        let content: String
        switch message.value("content") {
        case nil:
            guard role == "assistant" else { throw JSONFieldError("missing field '\(message.name("content"))'") }
            content = ""
        case .string(let text)?:
            content = text
        case .array(let parts)?:
            var text = ""
            for (i, part) in parts.enumerated() {
                let reader = try JSONObjectReader(part, path: message.name("content") + ".\(i)")
                let type = try reader.required("type", reader.string)
                guard type == "text" else {
                    throw JSONFieldError("field '\(reader.name("type"))' is '\(type)': only text parts are supported (this agent serves text models)")
                }
                text += try reader.required("text", reader.string)
            }
            content = text
        case let other?:
            throw message.wrongType("content", expected: "a string or an array of content parts", got: other)
        }
        return ChatTurn(role: role == "developer" ? "system" : role, content: content)
    }

    /// Fields of OpenAI's API this agent does not implement: refused when they ask for something (an empty list,
    /// false, or the default value asks for nothing and passes).
    private static func refuseUnsupported(_ body: JSONObjectReader, chat: Bool) throws(JSONFieldError) {
        func refuse(_ key: String, _ why: String) -> JSONFieldError {
            JSONFieldError("field '\(key)' is not supported: \(why)")
        }
        for key in ["tools", "functions"] {
            if case .array(let list)? = body.value(key), list.isEmpty { continue }
            if body.value(key) != nil { throw refuse(key, "this agent does not implement tool calls") }
        }
        for key in ["tool_choice", "function_call"] {
            if case .string("none")? = body.value(key) { continue }
            if body.value(key) != nil { throw refuse(key, "this agent does not implement tool calls") }
        }
        if let bias = body.value("logit_bias") {
            if case .object(let members) = bias, members.isEmpty {} else { throw refuse("logit_bias", "token biases are not implemented") }
        }
        if let format = body.value("response_format") {
            if case .string("text")? = format["type"] {} else {
                throw refuse("response_format", "structured output is not implemented yet; only {\"type\": \"text\"} is accepted")
            }
        }
        if case .bool(true)? = body.value("echo") { throw refuse("echo", "echoing the prompt is not implemented") }
        if case .string(let suffix)? = body.value("suffix"), !suffix.isEmpty { throw refuse("suffix", "insertion after a suffix is not implemented") }
        if let bestOf = try body.int("best_of"), bestOf != 1 { throw refuse("best_of", "use 'n' for several choices") }
        for key in ["audio", "modalities", "prediction"] where body.value(key) != nil {
            if key == "modalities", case .array(let list)? = body.value(key), list == [.string("text")] { continue }
            throw refuse(key, "this agent serves text only")
        }
    }
}

/// The body of POST /v1/admin/unload.
struct UnloadRequestBody: Sendable {
    let model: String

    init(_ raw: [UInt8]) throws(JSONFieldError) {
        let body = try JSONObjectReader(parsing: raw)
        model = try body.required("model", body.string)
    }
}
