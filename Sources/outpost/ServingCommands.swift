// `outpost models`, `outpost generate` and `outpost chat`: the running agent's models, over its socket.
import Arguments
import FoundationEssentials
import HTTP
import Platform

public enum ServingCommands {
    struct Models: Decodable {
        struct Entry: Decodable {
            let id: String
            let context_length: Int?
            let architecture: String?
        }
        let data: [Entry]
    }

    public static func models(socket: String?, json: Bool) throws(CLIError) -> String {
        let response = try AgentClient(socketOption: socket).get("/v1/models")
        if json { return response.text }
        guard let list = try? JSONDecoder().decode(Models.self, from: Data(response.body)) else {
            throw CLIError("the agent sent a model list this CLI does not understand")
        }
        if list.data.isEmpty { return "no models configured" }
        return list.data.map { "\($0.id)\t\($0.architecture ?? "-")\tcontext \($0.context_length.map(String.init) ?? "-")" }
            .joined(separator: "\n")
    }

    struct Sampling {
        var maxTokens: Int?
        var temperature: Double?
        var seed: UInt64?
        var topK: Int?
        var topP: Double?

        var json: String {
            var parts: [String] = []
            if let maxTokens { parts.append("\"max_tokens\":\(maxTokens)") }
            if let temperature { parts.append("\"temperature\":\(temperature)") }
            if let seed { parts.append("\"seed\":\(seed)") }
            if let topK { parts.append("\"top_k\":\(topK)") }
            if let topP { parts.append("\"top_p\":\(topP)") }
            return parts.map { "," + $0 }.joined()
        }
    }

    public static func sampling(_ arguments: Arguments) throws(UsageError) -> (maxTokens: Int?, temperature: Double?, seed: UInt64?, topK: Int?, topP: Double?) {
        var seed: UInt64?
        if let text = arguments.value("seed") {
            guard let value = UInt64(text) else { throw UsageError("--seed expects a non-negative integer, got '\(text)'") }
            seed = value
        }
        let maxTokens = try arguments.integer("max-tokens"), temperature = try arguments.double("temperature")
        let topK = try arguments.integer("top-k"), topP = try arguments.double("top-p")
        if let maxTokens, maxTokens < 1 { throw UsageError("--max-tokens must be at least 1, got \(maxTokens)") }
        if let temperature, temperature < 0 { throw UsageError("--temperature must not be negative, got \(temperature)") }
        if let topK, topK < 0 { throw UsageError("--top-k must not be negative, got \(topK)") }
        if let topP, !(topP > 0 && topP <= 1) { throw UsageError("--top-p must be in (0, 1], got \(topP)") }
        return (maxTokens, temperature, seed, topK, topP)
    }

    /// A completion of `prompt`; streamed to stdout as it arrives with `stream`.
    public static func generate(socket: String?, model: String, prompt: String, stream: Bool, json: Bool,
                                sampling s: (maxTokens: Int?, temperature: Double?, seed: UInt64?, topK: Int?, topP: Double?)) throws(CLIError) {
        let options = Sampling(maxTokens: s.maxTokens, temperature: s.temperature, seed: s.seed, topK: s.topK, topP: s.topP)
        let body = "{\"model\":\(JSONText.quote(model)),\"prompt\":\(JSONText.quote(prompt)),\"stream\":\(stream)\(options.json)}"
        let client = AgentClient(socketOption: socket)
        if stream {
            _ = try client.post("/v1/completions", json: body) { data in
                guard data != "[DONE]" else { return }
                if json { print(data); return }
                if let text = textOf(data) { try? FileDescriptor.standardOutput.writeAll(text) }
            }
            if !json { try? FileDescriptor.standardOutput.writeAll("\n") }
        } else {
            let response = try client.post("/v1/completions", json: body)
            print(json ? response.text : (textOf(response.text) ?? response.text))
        }
    }

    /// An interactive chat: each line typed is a user turn; the history is sent every time.
    public static func chat(socket: String?, model: String, sampling s: (maxTokens: Int?, temperature: Double?, seed: UInt64?, topK: Int?, topP: Double?)) throws(CLIError) {
        let options = Sampling(maxTokens: s.maxTokens, temperature: s.temperature, seed: s.seed, topK: s.topK, topP: s.topP)
        let client = AgentClient(socketOption: socket)
        var history: [String] = []
        printError("chatting with \(model); an empty line or end of input quits")
        while true {
            try? FileDescriptor.standardError.writeAll("> ")
            guard let line = readLine(), !line.isEmpty else { break }
            history.append("{\"role\":\"user\",\"content\":\(JSONText.quote(line))}")
            let body = "{\"model\":\(JSONText.quote(model)),\"messages\":[\(history.joined(separator: ","))],\"stream\":true\(options.json)}"
            var answer = ""
            _ = try client.post("/v1/chat/completions", json: body) { data in
                guard data != "[DONE]", let text = deltaOf(data) else { return }
                answer += text
                try? FileDescriptor.standardOutput.writeAll(text)
            }
            try? FileDescriptor.standardOutput.writeAll("\n")
            history.append("{\"role\":\"assistant\",\"content\":\(JSONText.quote(answer))}")
        }
    }

    struct TextChoice: Decodable {
        struct Choice: Decodable { let text: String? }
        let choices: [Choice]
    }

    struct DeltaChoice: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { let content: String? }
            let delta: Delta
        }
        let choices: [Choice]
    }

    static func textOf(_ json: String) -> String? {
        (try? JSONDecoder().decode(TextChoice.self, from: Data(json.utf8)))?.choices.first?.text ?? nil
    }

    static func deltaOf(_ json: String) -> String? {
        (try? JSONDecoder().decode(DeltaChoice.self, from: Data(json.utf8)))?.choices.first?.delta.content ?? nil
    }
}
