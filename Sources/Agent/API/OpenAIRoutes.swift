// POST /v1/completions, POST /v1/chat/completions and GET /v1/models: parse and check the request, take a turn
// on the model, answer in OpenAI's shapes (SSE chunks ending in `data: [DONE]` when "stream" is true).
import FoundationEssentials
import HTTP
import Inference
import Platform
import Synchronization
import Telemetry
import Tokenizer

struct ModelMetrics: Sendable {
    let promptTokens: CounterFamily
    let generatedTokens: CounterFamily
    let timeToFirstToken: HistogramFamily
    let denied: CounterFamily
    let rejected: CounterFamily
    let rateLimited: CounterFamily

    init(registry: MetricsRegistry) {
        rateLimited = registry.counter("outpost_rate_limited_total", help: "Requests refused with 429 by the per-uid rate limit, by uid.",
                                       labelNames: ["uid"])
        promptTokens = registry.counter("outpost_model_prompt_tokens_total", help: "Prompt tokens evaluated, by model.", labelNames: ["model"])
        generatedTokens = registry.counter("outpost_model_generated_tokens_total", help: "Tokens generated, by model.", labelNames: ["model"])
        timeToFirstToken = registry.histogram("outpost_model_time_to_first_token_seconds",
                                              help: "Time from a request's turn on the model to its first token, by model.",
                                              labelNames: ["model"], buckets: Buckets.latencySeconds)
        denied = registry.counter("outpost_access_denied_total", help: "Requests refused by access control, by model.", labelNames: ["model"])
        rejected = registry.counter("outpost_model_queue_full_total", help: "Requests refused with 429 because the queue was full, by model.",
                                    labelNames: ["model"])
    }
}

enum OpenAIRoutes {
    static let requestCounter = Atomic<Int>(0)

    static func add(to router: inout Router, models: [String: ServedModel], metrics: ModelMetrics, limiter: RateLimiter,
                    logger: LoggerBox) {
        router.add(.get, "/v1/models") { _, writer in
            let list = ModelList(object: "list", data: models.values.sorted { $0.config.name < $1.config.name }.map {
                .init(id: $0.config.name, object: "model", created: 0, owned_by: "outpost", context_length: $0.contextLength,
                      architecture: $0.info.architecture)
            })
            writer.respond(.json(.ok, APIRoutes.encode(list)))
        }
        router.add(.post, "/v1/completions") { request, writer in
            guard admit(request, writer, limiter: limiter, metrics: metrics) else { return }
            handle(request, writer, chat: false, models: models, metrics: metrics, logger: logger)
        }
        router.add(.post, "/v1/chat/completions") { request, writer in
            guard admit(request, writer, limiter: limiter, metrics: metrics) else { return }
            handle(request, writer, chat: true, models: models, metrics: metrics, logger: logger)
        }
    }

    /// The per-uid rate limit; answers 429 itself when the client is over it.
    static func admit(_ request: HTTPRequest, _ writer: ResponseWriter, limiter: RateLimiter, metrics: ModelMetrics) -> Bool {
        guard limiter.isEnabled, let uid = request.peer?.uid, uid != 0 else { return true }
        guard let wait = limiter.take(uid: uid, now: Double(Clock.monotonicNanoseconds()) / 1e9) else { return true }
        metrics.rateLimited.labels(String(uid)).inc()
        var headers = HTTPHeaders()
        headers.add("Retry-After", String(Int(wait.rounded(.up))))
        writer.respond(.error(.tooManyRequests, "uid \(uid) is over \(limiter.perMinute) requests a minute (burst \(limiter.burst))",
                              type: "rate_limit_error", code: "rate_limited", headers: headers))
        return false
    }

    static func handle(_ request: HTTPRequest, _ writer: ResponseWriter, chat: Bool, models: [String: ServedModel],
                       metrics: ModelMetrics, logger: LoggerBox) {
        // Parse everything before taking a turn, so bad requests never wait in the queue.
        let name: String
        let messages: [ChatMessage]?
        let promptText: String?
        let fields: SamplingFields
        do throws(CLIError) {
            fields = try OpenAIJSON.decode(SamplingFields.self, from: request.body)
            if chat {
                let body = try OpenAIJSON.decode(ChatRequest.self, from: request.body)
                name = body.model
                guard !body.messages.isEmpty else { throw CLIError("'messages' must not be empty") }
                messages = body.messages.map { ChatMessage(role: $0.role, content: $0.content ?? "") }
                promptText = nil
            } else {
                let body = try OpenAIJSON.decode(CompletionRequest.self, from: request.body)
                name = body.model
                let prompts = body.prompt.all
                guard prompts.count == 1 else { throw CLIError("'prompt' must be one string (got \(prompts.count)); batch prompts are not supported") }
                promptText = prompts[0]
                messages = nil
            }
        } catch {
            writer.respond(.error(.badRequest, error.message))
            return
        }
        guard let model = models[name] else {
            writer.respond(.error(.notFound, "model '\(name)' does not exist; GET /v1/models lists the models", code: "model_not_found"))
            return
        }
        guard model.access.allows(request.peer) else {
            metrics.denied.labels(name).inc()
            let peer = request.peer
            let exe = peer.flatMap { ProcessStats.executablePath(of: $0.pid) } ?? "-"
            logger.current.warning("access denied to model \(name)", [
                LogField("AUDIT", "access_denied"), LogField("MODEL", name), LogField("PEER_UID", peer.map { String($0.uid) } ?? "-"),
                LogField("PEER_PID", peer.map { String($0.pid) } ?? "-"), LogField("PEER_EXE", exe),
            ])
            writer.respond(.error(.forbidden, "uid \(peer.map { String($0.uid) } ?? "unknown") may not use model '\(name)' (allowed: root, \(model.access.description))",
                                  type: "permission_error", code: "access_denied"))
            return
        }
        let options: GenerationOptions
        do throws(CLIError) {
            options = try generationOptions(fields, contextLength: model.contextLength)
        } catch {
            writer.respond(.error(.badRequest, error.message))
            return
        }
        let prompt: String
        if let messages {
            guard let template = model.template else {
                writer.respond(.error(.badRequest, "model '\(name)' has no known chat template; use /v1/completions with a raw prompt"))
                return
            }
            prompt = template.render(messages, addGenerationPrompt: true)
        } else {
            prompt = promptText ?? ""
        }
        let tokens = model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: chat)
        guard tokens.count < model.contextLength else {
            writer.respond(.error(.badRequest, "the prompt has \(tokens.count) tokens; model '\(name)' has a context of \(model.contextLength)",
                                  code: "context_length_exceeded"))
            return
        }
        let id = (chat ? "chatcmpl-" : "cmpl-") + String(requestCounter.wrappingAdd(1, ordering: .relaxed).newValue)
        let created = Int(Clock.wallSeconds())
        let stream = fields.stream ?? false
        let accepted = model.submit { generator in
            run(generator, tokens: tokens, options: options, writer: writer, stream: stream, chat: chat, id: id, created: created,
                name: name, metrics: metrics)
        }
        if !accepted {
            metrics.rejected.labels(name).inc()
            var headers = HTTPHeaders()
            headers.add("Retry-After", "1")
            writer.respond(.error(.tooManyRequests, "model '\(name)' has \(model.config.maxQueue) requests waiting; retry later",
                                  type: "rate_limit_error", code: "queue_full", headers: headers))
        }
    }

    static func generationOptions(_ f: SamplingFields, contextLength: Int) throws(CLIError) -> GenerationOptions {
        var o = GenerationOptions()
        if let n = f.n, n != 1 { throw CLIError("'n' must be 1; several choices per request are not supported") }
        if f.logprobs?.requested == true || (f.top_logprobs ?? 0) > 0 { throw CLIError("'logprobs' is not supported yet") }
        o.maxTokens = f.max_completion_tokens ?? f.max_tokens ?? 256
        guard o.maxTokens >= 1 && o.maxTokens <= contextLength else {
            throw CLIError("'max_tokens' must be between 1 and the context length \(contextLength), got \(o.maxTokens)")
        }
        var s = SamplingParameters()
        s.temperature = f.temperature ?? 1
        s.topP = f.top_p ?? 1
        s.topK = f.top_k ?? 0
        s.minP = f.min_p ?? 0
        s.presencePenalty = f.presence_penalty ?? 0
        s.frequencyPenalty = f.frequency_penalty ?? 0
        s.repeatPenalty = f.repeat_penalty ?? 1
        s.seed = f.seed
        do {
            o.sampling = try s.validated()
        } catch {
            throw CLIError(error.message)
        }
        o.stop = f.stop?.all ?? []
        guard o.stop.count <= 4, o.stop.allSatisfy({ !$0.isEmpty }) else { throw CLIError("'stop' takes at most 4 non-empty strings") }
        return o
    }

    static func run(_ generator: Generator, tokens: [Int32], options: GenerationOptions, writer: ResponseWriter, stream: Bool,
                    chat: Bool, id: String, created: Int, name: String, metrics: ModelMetrics) {
        guard !writer.isCancelled else { return }
        let started = Clock.monotonicNanoseconds()
        var first = true
        if stream {
            writer.beginEventStream()
            if chat { writer.writeEvent(chunk(id, created, name, role: "assistant", content: "", finish: nil)) }
        }
        let result: GenerationResult
        do {
            result = try generator.generate(prompt: tokens, options: options) { text in
                if first {
                    first = false
                    metrics.timeToFirstToken.labels(name).observe(Double(Clock.monotonicNanoseconds() - started) / 1e9)
                }
                if stream {
                    let event = chat ? chunk(id, created, name, role: nil, content: text, finish: nil)
                        : APIRoutes.encode(CompletionResponse(id: id, object: "text_completion", created: created, model: name,
                                                              choices: [.init(index: 0, text: text, logprobs: nil, finish_reason: nil)], usage: nil))
                    return writer.writeEvent(event)
                }
                return !writer.isCancelled
            }
        } catch {
            if stream {
                writer.writeEvent("{\"error\":{\"message\":\(JSONText.quote(error.message)),\"type\":\"server_error\",\"code\":null}}")
                writer.end()
            } else {
                writer.respond(.error(.internalServerError, error.message))
            }
            return
        }
        metrics.promptTokens.labels(name).inc(by: Double(result.promptTokens))
        metrics.generatedTokens.labels(name).inc(by: Double(result.tokens.count))
        let finish = result.finishReason == .length ? "length" : "stop"
        let usage = Usage(prompt_tokens: result.promptTokens, completion_tokens: result.tokens.count,
                          total_tokens: result.promptTokens + result.tokens.count)
        if stream {
            if chat {
                writer.writeEvent(chunk(id, created, name, role: nil, content: nil, finish: finish))
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
                choices: [.init(index: 0, message: .init(role: "assistant", content: result.text), logprobs: nil, finish_reason: finish)],
                usage: usage))))
        } else {
            writer.respond(.json(.ok, APIRoutes.encode(CompletionResponse(
                id: id, object: "text_completion", created: created, model: name,
                choices: [.init(index: 0, text: result.text, logprobs: nil, finish_reason: finish)], usage: usage))))
        }
    }

    static func chunk(_ id: String, _ created: Int, _ model: String, role: String?, content: String?, finish: String?) -> String {
        APIRoutes.encode(ChatChunk(id: id, object: "chat.completion.chunk", created: created, model: model,
                                   choices: [.init(index: 0, delta: .init(role: role, content: content), logprobs: nil, finish_reason: finish)]))
    }
}
