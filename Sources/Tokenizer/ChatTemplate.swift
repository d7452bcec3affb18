// Chat prompts in the fixed formats llama.cpp's llm_chat_apply_template writes (src/llama-chat.cpp).

/// One turn of a conversation. `role` is "system", "user" or "assistant" (others pass through as written).
public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

/// A chat format, named as llama.cpp names its built-in templates.
public enum ChatTemplate: Sendable, Equatable {
    /// llama.cpp "gemma": `<start_of_turn>user\n...<end_of_turn>\n`; "assistant" is written "model", and system
    /// text is folded into the next user turn.
    case gemma
    /// llama.cpp "llama3": `<|start_header_id|>role<|end_header_id|>\n\n...<|eot_id|>`.
    case llama3
    /// llama.cpp "chatml": `<|im_start|>role\n...<|im_end|>\n`.
    case chatml
    /// llama.cpp "mistral-v7": `[SYSTEM_PROMPT] ...[/SYSTEM_PROMPT][INST] ...[/INST] ...</s>`.
    case mistral

    /// The prompt for `messages`, ending with the opening of an assistant turn when `addGenerationPrompt`. Byte for
    /// byte what llama.cpp's `llm_chat_apply_template` writes for this format. The BOS token is not part of it
    /// (the tokenizer adds it).
    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        switch self {
        case .chatml:
            for message in messages {
                out += "<|im_start|>\(message.role)\n\(message.content)<|im_end|>\n"
            }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }

        case .llama3:
            for message in messages {
                out += "<|start_header_id|>\(message.role)<|end_header_id|>\n\n\(Self.trim(message.content))<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }

        case .gemma:
            var systemPrompt = ""
            for message in messages {
                if message.role == "system" {
                    systemPrompt += Self.trim(message.content)
                    continue
                }
                let role = message.role == "assistant" ? "model" : message.role
                out += "<start_of_turn>\(role)\n"
                if !systemPrompt.isEmpty && role != "model" {
                    out += systemPrompt + "\n\n"
                    systemPrompt = ""
                }
                out += Self.trim(message.content) + "<end_of_turn>\n"
            }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }

        case .mistral:
            // llama.cpp's v7 format has no generation prompt: the text after [/INST] is the answer.
            for message in messages {
                switch message.role {
                case "system": out += "[SYSTEM_PROMPT] \(message.content)[/SYSTEM_PROMPT]"
                case "user": out += "[INST] \(message.content)[/INST]"
                default: out += " \(message.content)</s>"
                }
            }
        }
        return out
    }

    /// llama.cpp's `trim`: C `isspace` (space, \t, \n, \v, \f, \r) removed from both ends.
    static func trim(_ text: String) -> String {
        let bytes = Array(text.utf8)
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) }
        var start = 0
        var end = bytes.count
        while start < end && isSpace(bytes[start]) { start += 1 }
        while end > start && isSpace(bytes[end - 1]) { end -= 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}
