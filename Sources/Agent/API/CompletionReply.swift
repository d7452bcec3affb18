// The answer to one completion request, in OpenAI's shapes: streamed as SSE chunks ending in `data: [DONE]`,
// or one JSON body at the end; with `n` choices, each generated as its own sequence and told apart by `index`.
// Its methods run on the model's scheduler thread, one at a time (replay and fail run before any generation).
import HTTP
import Inference
import JSON
import Serving
import Tokenizer

final class CompletionReply: @unchecked Sendable {
    let writer: ResponseWriter
    let tokenizer: Tokenizer
    let name: String
    let chat: Bool
    let stream: Bool
    let id: String
    let created: Int
    let metrics: ServingMetrics
    let asked: Bool
    /// One encoder for every chunk of this answer.
    private let json = JSONWriter()
    private var started = false
    /// One per choice, set as each ends.
    private var results: [GenerationResult?]
    /// Characters of each choice's text before its next token (for legacy logprobs' text_offset).
    private var textOffsets: [Int]
    /// The answer is complete (or failed): later events are dropped and the other choices stop.
    private(set) var isOver = false

    /// `asked`: whether the request wants log-probabilities.
    init(writer: ResponseWriter, tokenizer: Tokenizer, name: String, chat: Bool, stream: Bool, id: String, created: Int,
         metrics: ServingMetrics, choices: Int, asked: Bool) {
        self.writer = writer
        self.tokenizer = tokenizer
        self.name = name
        self.chat = chat
        self.stream = stream
        self.id = id
        self.created = created
        self.metrics = metrics
        self.asked = asked
        results = Array(repeating: nil, count: choices)
        textOffsets = Array(repeating: 0, count: choices)
    }

    /// Whether the generation of a choice should stop: the client left, or the answer is over.
    var shouldStop: Bool { isOver || writer.isCancelled }

    /// Text of `choice` that became final; false when nobody listens any more.
    func text(_ choice: Int, _ text: String, _ logprobs: ArraySlice<TokenLogprob>) -> Bool {
        guard !isOver else { return false }
        guard stream else { return !writer.isCancelled }
        begin()
        let event = chat
            ? chunk(choice, content: text, logprobs: asked ? chatLogprobs(logprobs) : nil, finish: nil)
            : json.string(CompletionResponse(id: id, object: "text_completion", created: created, model: name,
                                                  choices: [.init(index: choice, text: text, logprobs: asked ? completionLogprobs(choice, logprobs) : nil,
                                                                  finish_reason: nil)], usage: nil))
        return writer.writeEvent(event)
    }

    /// `choice` ended; the answer goes out when every choice has, or at once when one failed or was cancelled.
    func end(_ choice: Int, _ outcome: Result<GenerationResult, GenerationFailure>) {
        guard !isOver else { return }
        switch outcome {
        case .failure(let error):
            isOver = true
            let timedOut = if case .timedOut = error { true } else { false }
            let status: HTTPStatus = timedOut ? .gatewayTimeout : .internalServerError
            metrics.requests.labels(name, String(status.code)).inc()
            if started {
                writer.writeEvent("{\"error\":{\"message\":\(JSONText.quote(error.message)),\"type\":\"server_error\",\"code\":\(timedOut ? "\"timeout\"" : "null")}}")
                writer.end()
            } else {
                writer.respond(.error(status, error.message, code: timedOut ? "timeout" : nil))
            }
        case .success(let result) where result.finishReason == .cancelled:
            isOver = true
            metrics.requests.labels(name, "499").inc()
            if started { writer.end() }
        case .success(let result):
            results[choice] = result
            if results.allSatisfy({ $0 != nil }) { finish(results.map { $0! }) }
        }
    }

    /// A cached result (one choice), answered as a fresh one would be (one chunk of text when streaming).
    func replay(_ result: GenerationResult) {
        if stream && !result.text.isEmpty { _ = text(0, result.text, result.logprobs[...]) }
        end(0, .success(result))
    }

    /// An error before generation started.
    func fail(_ response: HTTPResponse) {
        isOver = true
        metrics.requests.labels(name, String(response.status.code)).inc()
        writer.respond(response)
    }

    private func finish(_ all: [GenerationResult]) {
        isOver = true
        metrics.requests.labels(name, "200").inc()
        let reasons = all.map { $0.finishReason == .length ? "length" : "stop" }
        let completion = all.reduce(0) { $0 + $1.tokens.count }
        let usage = Usage(prompt_tokens: all[0].promptTokens, completion_tokens: completion, total_tokens: all[0].promptTokens + completion)
        if stream {
            begin()
            for (i, finish) in reasons.enumerated() {
                if chat {
                    writer.writeEvent(chunk(i, content: nil, logprobs: nil, finish: finish))
                } else {
                    writer.writeEvent(json.string(CompletionResponse(
                        id: id, object: "text_completion", created: created, model: name,
                        choices: [.init(index: i, text: "", logprobs: nil, finish_reason: finish)], usage: i == all.count - 1 ? usage : nil)))
                }
            }
            writer.writeEvent("[DONE]")
            writer.end()
        } else if chat {
            writer.respond(.json(.ok, json.string(ChatResponse(
                id: id, object: "chat.completion", created: created, model: name,
                choices: all.enumerated().map { i, r in
                    .init(index: i, message: .init(role: "assistant", content: r.text), logprobs: asked ? chatLogprobs(r.logprobs[...]) : nil,
                          finish_reason: reasons[i])
                },
                usage: usage))))
        } else {
            writer.respond(.json(.ok, json.string(CompletionResponse(
                id: id, object: "text_completion", created: created, model: name,
                choices: all.enumerated().map { i, r in
                    .init(index: i, text: r.text, logprobs: asked ? completionLogprobs(i, r.logprobs[...]) : nil, finish_reason: reasons[i])
                },
                usage: usage))))
        }
    }

    private func begin() {
        guard !started else { return }
        started = true
        writer.beginEventStream()
        if chat {
            for i in results.indices { writer.writeEvent(chunk(i, content: "", logprobs: nil, finish: nil, role: "assistant")) }
        }
    }

    private func chunk(_ choice: Int, content: String?, logprobs: ChatLogprobs?, finish: String?, role: String? = nil) -> String {
        json.string(ChatChunk(id: id, object: "chat.completion.chunk", created: created, model: name,
                                   choices: [.init(index: choice, delta: .init(role: role, content: content), logprobs: logprobs, finish_reason: finish)]))
    }

    private func piece(_ token: Int32) -> (String, [UInt8]) {
        let bytes = tokenizer.piece(token)
        return (String(decoding: bytes, as: UTF8.self), bytes)
    }

    private func chatLogprobs(_ list: ArraySlice<TokenLogprob>) -> ChatLogprobs {
        ChatLogprobs(content: list.map { lp in
            let (token, bytes) = piece(lp.token)
            return .init(token: token, logprob: lp.logprob, bytes: bytes, top_logprobs: lp.top.map {
                let (text, raw) = piece($0.token)
                return .init(token: text, logprob: $0.logprob, bytes: raw)
            })
        })
    }

    private func completionLogprobs(_ choice: Int, _ list: ArraySlice<TokenLogprob>) -> CompletionLogprobs {
        var out = CompletionLogprobs()
        for lp in list {
            let (token, _) = piece(lp.token)
            out.tokens.append(token)
            out.token_logprobs.append(lp.logprob)
            var top: [String: Float] = [:]
            for alt in lp.top { top[piece(alt.token).0] = max(top[piece(alt.token).0] ?? -.infinity, alt.logprob) }
            out.top_logprobs.append(top)
            out.text_offset.append(textOffsets[choice])
            textOffsets[choice] += token.count
        }
        return out
    }
}
