// Choosing the chat format from a GGUF file, by the markers llama.cpp's llm_chat_detect_template looks for.
import GGUF

extension ChatTemplate {
    /// The format named by, or recognised in, `tokenizer.chat_template`; without one, the format of the model
    /// family in `general.architecture` (Gemma → gemma, Qwen → chatml). A template llama.cpp would render in
    /// another of its formats, or not recognise at all, is an error naming it; callers may then fall back to a
    /// raw prompt.
    public static func detect(gguf: GGUFFile) throws(TokenizerError) -> ChatTemplate {
        let key = "tokenizer.chat_template"
        let template: String?
        do {
            template = try gguf.optionalString(key)
        } catch {
            throw TokenizerError(key, "\(error)")
        }
        if let template { return try detect(template: template) }

        let architecture: String
        do {
            architecture = try gguf.optionalString("general.architecture") ?? ""
        } catch {
            throw TokenizerError("general.architecture", "\(error)")
        }
        if architecture.hasPrefix("gemma") { return .gemma }
        if architecture.hasPrefix("qwen") { return .chatml }
        throw TokenizerError(
            key, "missing, and architecture '\(architecture)' has no default chat format; use a raw prompt")
    }

    /// The names a configuration or a bundle may give a format by.
    public static let names = ["gemma", "llama3", "chatml", "mistral-v7"]

    /// The format called `name` (one of `names`).
    public static func named(_ name: String) -> ChatTemplate? {
        guard names.contains(name) else { return nil }
        return try? detect(template: name)
    }

    /// The format for a template text (Jinja source or a llama.cpp template name).
    static func detect(template: String) throws(TokenizerError) -> ChatTemplate {
        let name = llamaCppName(template)
        switch name {
        case "gemma": return .gemma
        case "llama3": return .llama3
        case "chatml": return .chatml
        case "mistral-v7": return .mistral
        case "unknown":
            throw TokenizerError("tokenizer.chat_template", "not a chat format llama.cpp recognises; use a raw prompt")
        default:
            throw TokenizerError(
                "tokenizer.chat_template",
                "llama.cpp renders this template as '\(name)', which is not supported "
                    + "(supported: gemma, llama3, chatml, mistral-v7)")
        }
    }

    /// The name llama.cpp's `llm_chat_detect_template` gives `template`, its checks in its order ("unknown" when
    /// none matches), so that an error can name the format llama.cpp would have used.
    static func llamaCppName(_ template: String) -> String {
        if builtinNames.contains(template) { return template }
        func has(_ marker: String) -> Bool { template.contains(marker) }

        if has("<|im_start|>") {
            return has("<|im_sep|>") ? "phi4" : has("<end_of_utterance>") ? "smolvlm" : "chatml"
        }
        if template.hasPrefix("mistral") || has("[INST]") {
            if has("[SYSTEM_PROMPT]") { return "mistral-v7" }
            if has("' [INST] ' + system_message") || has("[AVAILABLE_TOOLS]") {
                if has(" [INST]") { return "mistral-v1" }
                if has("\"[INST]\"") { return "mistral-v3-tekken" }
                return "mistral-v3"
            }
            if has("content.strip()") { return "llama2-sys-strip" }
            if has("bos_token + '[INST]") { return "llama2-sys-bos" }
            if has("<<SYS>>") { return "llama2-sys" }
            return "llama2"
        }
        if has("<|assistant|>") && has("<|end|>") { return "phi3" }
        if has("[gMASK]<sop>") { return "chatglm4" }
        if has("<|assistant|>") && has("<|user|>") {
            if has("<|tool_declare|>") { return "exaone-moe" }
            return has("</s>") ? "falcon3" : "glmedge"
        }
        if has("<|{{ item['role'] }}|>") && has("<|begin_of_image|>") { return "glmedge" }
        if has("<|user|>") && has("<|endoftext|>") { return "zephyr" }
        if has("bos_token + message['role']") { return "monarch" }
        if has("<start_of_turn>") { return "gemma" }
        if has("'\\n\\nAssistant: ' + eos_token") { return "orion" }
        if has("GPT4 Correct ") { return "openchat" }
        if has("USER: ") && has("ASSISTANT: ") { return has("SYSTEM: ") ? "vicuna-orca" : "vicuna" }
        if has("### Instruction:") && has("<|EOT|>") { return "deepseek" }
        if has("<|START_OF_TURN_TOKEN|>") && has("<|USER_TOKEN|>") { return "command-r" }
        if has("<|start_header_id|>") && has("<|end_header_id|>") { return "llama3" }
        if has("[gMASK]sop") { return "chatglm3" }
        if has("<用户>") { return "minicpm" }
        if has("'Assistant: ' + message['content'] + eos_token") { return "deepseek2" }
        if has("<｜Assistant｜>") && has("<｜User｜>") && has("<｜end▁of▁sentence｜>") { return "deepseek3" }
        if has("[|system|]") && has("[|assistant|]") && has("[|endofturn|]") {
            return has("[|tool|]") ? "exaone4" : "exaone3"
        }
        if has("rwkv-world") || has("{{- 'User: ' + message['content']|trim + '\\n\\n' -}}") { return "rwkv-world" }
        if has("<|start_of_role|>") {
            if has("<tool_call>") || has("<tools>") {
                return has("g4_default_system_message") ? "granite-4.0" : "granite-4.1"
            }
            return "granite"
        }
        if has("message['role'] + additional_special_tokens[0] + message['content'] + additional_special_tokens[1]") {
            return "gigachat"
        }
        if has("<|role_start|>") { return "megrez" }
        if has(" Ассистент:") { return "yandex" }
        if has("<role>ASSISTANT</role>") && has("'HUMAN'") { return "bailing" }
        if has("<role>ASSISTANT</role>") && has("\"HUMAN\"") && has("<think>") { return "bailing-think" }
        if has("<role>ASSISTANT</role>") && has("<role>HUMAN</role>") && has("<|role_end|>") { return "bailing2" }
        if has("<|header_start|>") && has("<|header_end|>") { return "llama4" }
        if has("<|endofuserprompt|>") { return "dots1" }
        if has("<|extra_0|>") && has("<|extra_4|>") { return "hunyuan-moe" }
        if has("<|start|>") && has("<|channel|>") { return "gpt-oss" }
        if has("<｜hy_Assistant｜>") && has("<｜hy_begin▁of▁sentence｜>") { return "hunyuan-vl" }
        if has("<｜hy_Assistant｜>") && has("<｜hy_place▁holder▁no▁3｜>") { return "hunyuan-dense" }
        if has("<|im_assistant|>assistant<|im_middle|>") { return "kimi-k2" }
        if has("<seed:bos>") { return "seed_oss" }
        if has("'Assistant: '  + message['content'] + '<|separator|>") { return "grok-2" }
        if has("[unused9]系统：[unused10]") { return "pangu-embedded" }
        if has("<|begin|>") && has("<|end|>") && has("<|content|>") { return "solar-open" }
        return "unknown"
    }

    /// llama.cpp's LLM_CHAT_TEMPLATES names: a template text equal to one of these selects it directly.
    private static let builtinNames: Set<String> = [
        "chatml", "llama2", "llama2-sys", "llama2-sys-bos", "llama2-sys-strip", "mistral-v1", "mistral-v3",
        "mistral-v3-tekken", "mistral-v7", "mistral-v7-tekken", "phi3", "phi4", "falcon3", "zephyr", "monarch",
        "gemma", "orion", "openchat", "vicuna", "vicuna-orca", "deepseek", "deepseek2", "deepseek3", "deepseek-ocr",
        "command-r", "llama3", "chatglm3", "chatglm4", "glmedge", "minicpm", "exaone3", "exaone4", "exaone-moe",
        "rwkv-world", "granite", "granite-4.0", "granite-4.1", "gigachat", "megrez", "yandex", "bailing",
        "bailing-think", "bailing2", "llama4", "smolvlm", "hunyuan-moe", "gpt-oss", "hunyuan-dense", "hunyuan-vl",
        "kimi-k2", "seed_oss", "grok-2", "pangu-embedded", "solar-open",
    ]
}
