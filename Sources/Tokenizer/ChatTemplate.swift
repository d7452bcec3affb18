// Chat formats, rendered exactly as llama.cpp's llm_chat_apply_template renders them.
import GGUF

public struct ChatMessage: Sendable, Equatable {
    public var role: String
    public var content: String
    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }
}

public enum ChatTemplate: String, Sendable, Equatable, CaseIterable {
    case gemma, llama3, chatml, mistral

    /// From `tokenizer.chat_template` by its distinctive markers, else from the architecture.
    public static func detect(gguf: GGUFFile) throws(TokenizerError) -> ChatTemplate {
        if case .string(let template)? = gguf["tokenizer.chat_template"] {
            if template.contains("<start_of_turn>") { return .gemma }
            if template.contains("<|start_header_id|>") { return .llama3 }
            if template.contains("<|im_start|>") { return .chatml }
            if template.contains("[INST]") { return .mistral }
            throw TokenizerError("the model's chat template (tokenizer.chat_template) is not one of the supported formats (gemma, llama3, chatml, mistral); use a raw prompt")
        }
        let architecture: String
        if case .string(let a)? = gguf["general.architecture"] { architecture = a } else { architecture = "" }
        switch architecture {
        case "gemma", "gemma2", "gemma3": return .gemma
        case "qwen2": return .chatml
        default:
            throw TokenizerError("the model has no tokenizer.chat_template and its architecture '\(architecture)' implies none; use a raw prompt")
        }
    }

    public func render(_ messages: [ChatMessage], addGenerationPrompt: Bool) -> String {
        var out = ""
        switch self {
        case .gemma:
            var system = ""
            for message in messages {
                if message.role == "system" {
                    system += Self.trim(message.content)
                    continue
                }
                let role = message.role == "assistant" ? "model" : message.role
                out += "<start_of_turn>\(role)\n"
                if !system.isEmpty && role != "model" {
                    out += system + "\n\n"
                    system = ""
                }
                out += Self.trim(message.content) + "<end_of_turn>\n"
            }
            if addGenerationPrompt { out += "<start_of_turn>model\n" }
        case .chatml:
            for message in messages { out += "<|im_start|>\(message.role)\n\(message.content)<|im_end|>\n" }
            if addGenerationPrompt { out += "<|im_start|>assistant\n" }
        case .llama3:
            for message in messages {
                out += "<|start_header_id|>\(message.role)<|end_header_id|>\n\n\(Self.trim(message.content))<|eot_id|>"
            }
            if addGenerationPrompt { out += "<|start_header_id|>assistant<|end_header_id|>\n\n" }
        case .mistral:
            // Mistral v7: [SYSTEM_PROMPT] ... [/SYSTEM_PROMPT][INST] ... [/INST] answer</s>
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

    static func trim(_ text: String) -> String {
        var s = Substring(text)
        while let c = s.first, c.isWhitespace { s.removeFirst() }
        while let c = s.last, c.isWhitespace { s.removeLast() }
        return String(s)
    }
}
