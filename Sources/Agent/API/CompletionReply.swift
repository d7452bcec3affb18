// The answer to one completion request, in OpenAI's shapes: streamed as SSE chunks ending in `data: [DONE]`,
// or one JSON body at the end. Its methods run on the model's scheduler thread, one at a time.
import HTTP
import Inference
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
    private var started = false
    /// Characters of completion text before the next token (for legacy logprobs' text_offset).
    private var textOffset = 0

    init(writer: ResponseWriter, tokenizer: Tokenizer, name: String, chat: Bool, stream: Bool, id: String, created: Int,
         metrics: ServingMetrics) {
        self.writer = writer
        self.tokenizer = tokenizer
        self.name = name
        self.chat = chat
        self.stream = stream
        self.id = id
        self.created = created
        self.metrics = metrics
    }

    /// Text that became final; false when the client has gone.
    func text(_ text: String, _ logprobs: ArraySlice<TokenLogprob>, asked: Bool) -> Bool {
        guard stream else { return !writer.isCancelled }
        begin()
        let event = chat
            ? chunk(content: text, logprobs: asked ? chatLogprobs(logprobs) : nil, finish: nil)
            : APIRoutes.encode(CompletionResponse(id: id, object: "text_completion", created: created, model: name,
                                                  choices: [.init(index: 0, text: text, logprobs: asked ? completionLogprobs(logprobs) : nil,
                                                                  finish_reason: nil)], usage: nil))
        return writer.writeEvent(event)
    }

    func end(_ outcome: Result<GenerationResult, GenerationFailure>, asked: Bool) {
        let result: GenerationResult
        switch outcome {
        case .failure(let error):
            let timedOut = if case .timedOut = error { true } else { false }
            let status: HTTPStatus = timedOut ? .gatewayTimeout : .internalServerError
            metrics.requests.labels(name, String(status.code)).inc()
            if started {
                writer.writeEvent("{\"error\":{\"message\":\(JSONText.quote(error.message)),\"type\":\"server_error\",\"code\":\(timedOut ? "\"timeout\"" : "null")}}")
                writer.end()
            } else {
                writer.respond(.error(status, error.message, code: timedOut ? "timeout" : nil))
            }
            return
        case .success(let r):
            result = r
        }
        if result.finishReason == .cancelled {
            metrics.requests.labels(name, "499").inc()
            if started { writer.end() }
            return
        }
        metrics.requests.labels(name, "200").inc()
        let finish = result.finishReason == .length ? "length" : "stop"
        let usage = Usage(prompt_tokens: result.promptTokens, completion_tokens: result.tokens.count,
                          total_tokens: result.promptTokens + result.tokens.count)
        if stream {
            begin()
            if chat {
                writer.writeEvent(chunk(content: nil, logprobs: nil, finish: finish))
            } else {
                writer.writeEvent(APIRoutes.encode(CompletionResponse(id: id, object: "text_completion", created: created, model: name,
                                                                      choices: [.init(index: 0, text: "", logprobs: nil, finish_reason: finish)],
                                                                      usage: usage)))
            }
            writer.writeEvent("[DONE]")
            writer.end()
        } else if chat {
            writer.respond(.json(.ok, APIRoutes.encode(ChatResponse(
                id: id, object: "chat.completion", created: created, model: name,
                choices: [.init(index: 0, message: .init(role: "assistant", content: result.text),
                                logprobs: asked ? chatLogprobs(result.logprobs[...]) : nil, finish_reason: finish)],
                usage: usage))))
        } else {
            writer.respond(.json(.ok, APIRoutes.encode(CompletionResponse(
                id: id, object: "text_completion", created: created, model: name,
                choices: [.init(index: 0, text: result.text, logprobs: asked ? completionLogprobs(result.logprobs[...]) : nil,
                                finish_reason: finish)], usage: usage))))
        }
    }

    /// A cached result, answered as a fresh one would be (one chunk of text when streaming).
    func replay(_ result: GenerationResult, asked: Bool) {
        if stream && !result.text.isEmpty { _ = text(result.text, result.logprobs[...], asked: asked) }
        end(.success(result), asked: asked)
    }

    /// An error before generation started.
    func fail(_ response: HTTPResponse) {
        metrics.requests.labels(name, String(response.status.code)).inc()
        writer.respond(response)
    }

    private func begin() {
        guard !started else { return }
        started = true
        writer.beginEventStream()
        if chat { writer.writeEvent(chunk(content: "", logprobs: nil, finish: nil, role: "assistant")) }
    }

    private func chunk(content: String?, logprobs: ChatLogprobs?, finish: String?, role: String? = nil) -> String {
        APIRoutes.encode(ChatChunk(id: id, object: "chat.completion.chunk", created: created, model: name,
                                   choices: [.init(index: 0, delta: .init(role: role, content: content), logprobs: logprobs, finish_reason: finish)]))
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

    private func completionLogprobs(_ list: ArraySlice<TokenLogprob>) -> CompletionLogprobs {
        var out = CompletionLogprobs()
        for lp in list {
            let (token, _) = piece(lp.token)
            out.tokens.append(token)
            out.token_logprobs.append(lp.logprob)
            var top: [String: Float] = [:]
            for alt in lp.top { top[piece(alt.token).0] = max(top[piece(alt.token).0] ?? -.infinity, alt.logprob) }
            out.top_logprobs.append(top)
            out.text_offset.append(textOffset)
            textOffset += token.count
        }
        return out
    }
}
