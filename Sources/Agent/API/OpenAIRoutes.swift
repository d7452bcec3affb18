// POST /v1/completions, POST /v1/chat/completions and GET /v1/models: parse and check the request, take a turn
// on the model, answer in OpenAI's shapes (SSE chunks ending in `data: [DONE]` when "stream" is true).
import Dispatch
import HTTP
import Inference
import JSON
import Platform
import Serving
import Synchronization
import Telemetry
import Tokenizer

enum OpenAIRoutes {
    /// Choices one request may ask for (`n`); each is a sequence of its own.
    static let maxChoices = 8

    static let requestCounter = Atomic<Int>(0)

    static func add(to router: inout Router, models: ModelManager, metrics: ServingMetrics, limiter: RateLimiter,
                    logger: LoggerBox) {
        router.add(.get, "/v1/models") { _, writer in
            let loaded = Dictionary(uniqueKeysWithValues: models.registry.all.map { ($0.config.name, $0) })
            let list = ModelList(object: "list", data: models.registry.configuredNames.map { name in
                let model = loaded[name]
                return .init(id: name, object: "model", created: 0, owned_by: "outpost", context_length: model?.contextLength,
                             architecture: model?.info.architecture, loaded: model != nil)
            })
            writer.respond(.json(.ok, JSONWriter.encode(list)))
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
    static func admit(_ request: HTTPRequest, _ writer: ResponseWriter, limiter: RateLimiter, metrics: ServingMetrics) -> Bool {
        guard limiter.isEnabled, let uid = request.peer?.uid, uid != 0 else { return true }
        guard let wait = limiter.take(uid: uid, now: Double(Clock.monotonicNanoseconds()) / 1e9) else { return true }
        metrics.rateLimited.labels(String(uid)).inc()
        var headers = HTTPHeaders()
        headers.add("Retry-After", String(Int(wait.rounded(.up))))
        writer.respond(.error(.tooManyRequests, "uid \(uid) is over \(limiter.perMinute) requests a minute (burst \(limiter.burst))",
                              type: "rate_limit_error", code: "rate_limited", headers: headers))
        return false
    }

    /// Request bodies are read, rendered and tokenized here, off the serving loop: their cost grows with the body,
    /// and the loop must keep answering health checks and other clients meanwhile.
    static let work = DispatchQueue(label: "outpost.requests", qos: .userInitiated, attributes: .concurrent)

    static func handle(_ request: HTTPRequest, _ writer: ResponseWriter, chat: Bool, models: ModelManager,
                       metrics: ServingMetrics, logger: LoggerBox) {
        work.async {
            // Parse everything before taking a turn, so bad requests never wait in the queue.
            let body: CompletionRequestBody
            do throws(JSONFieldError) {
                body = try CompletionRequestBody(request.body, chat: chat)
            } catch {
                writer.respond(.error(.badRequest, error.message))
                return
            }
            let name = body.model
            models.withModel(name) { found in
                switch found {
                case .success(let model):
                    handle(request, writer, chat: chat, model: model, body: body, metrics: metrics, logger: logger)
                case .failure(.unknown):
                    writer.respond(.error(.notFound, "model '\(name)' does not exist; GET /v1/models lists the models", code: "model_not_found"))
                case .failure(.notLoaded(let why)):
                    metrics.requests.labels(name, "503").inc()
                    writer.respond(.error(.serviceUnavailable, "model '\(name)' could not be loaded: \(why)", code: "model_not_loaded"))
                }
            }
        }
    }

    /// The rest of a request once its model is loaded (on the request queue, or on the model queue after a load).
    static func handle(_ request: HTTPRequest, _ writer: ResponseWriter, chat: Bool, model: ServedModel, body: CompletionRequestBody,
                       metrics: ServingMetrics, logger: LoggerBox) {
        let name = model.config.name
        let fields = body.fields
        guard model.access.allows(request.peer) else {
            metrics.denied.labels(name).inc()
            model.access.deny(request.peer, what: "model '\(name)'", event: "access_denied", summary: "access denied", fields: [LogField("MODEL", name)],
                              writer: writer, logger: logger)
            return
        }
        let options: GenerationOptions
        do throws(JSONFieldError) {
            options = try generationOptions(fields, chat: chat, contextLength: model.contextLength)
        } catch {
            writer.respond(.error(.badRequest, error.message))
            return
        }
        let prompt: String
        if let messages = body.messages {
            guard let template = model.template else {
                writer.respond(.error(.badRequest, "model '\(name)' has no known chat template; use /v1/completions with a raw prompt"))
                return
            }
            prompt = template.render(messages.map { ChatMessage(role: $0.role, content: $0.content) }, addGenerationPrompt: true)
        } else {
            prompt = body.prompt ?? ""
        }
        // Refused before tokenizing when its size alone shows it cannot fit: tokenizing costs time and memory
        // that grow with the text, and the context bounds what is worth that cost.
        let bytes = prompt.utf8.count
        let fewest = model.tokenizer.minimumTokenCount(byteCount: bytes, addSpecial: true)
        guard fewest < model.contextLength else {
            writer.respond(.error(.badRequest, "the prompt is \(bytes) bytes, at least \(fewest) tokens (no token of this model spans more than "
                                  + "\(model.tokenizer.longestTokenBytes) bytes); model '\(name)' has a context of \(model.contextLength)",
                                  code: "context_length_exceeded"))
            return
        }
        let tokens = model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: chat)
        guard tokens.count < model.contextLength else {
            writer.respond(.error(.badRequest, "the prompt has \(tokens.count) tokens; model '\(name)' has a context of \(model.contextLength)",
                                  code: "context_length_exceeded"))
            return
        }
        let id = (chat ? "chatcmpl-" : "cmpl-") + String(requestCounter.wrappingAdd(1, ordering: .relaxed).newValue)
        let choices = fields.n ?? 1
        let reply = CompletionReply(writer: writer, tokenizer: model.tokenizer, name: name, chat: chat, stream: fields.stream ?? false,
                                    id: id, created: Int(Clock.wallSeconds()), metrics: metrics, choices: choices,
                                    asked: options.logprobs != nil)
        // Only single answers are cached: with n, each choice is its own sample.
        let key = choices == 1 ? ResultCache.key(prompt: tokens, options: options) : nil
        if let key, model.resultCache.capacity > 0 {
            if let cached = model.resultCache.lookup(key) {
                metrics.resultCache.labels(name, "hit").inc()
                reply.replay(cached)
                return
            }
            metrics.resultCache.labels(name, "miss").inc()
        }
        let jobs = (0..<choices).map { choice in
            var own = options
            // A seeded request stays reproducible: choice i samples with seed + i.
            if let seed = options.sampling.seed { own.sampling.seed = seed &+ UInt64(choice) }
            return GenerationJob(prompt: tokens, options: own, timeoutSeconds: model.config.requestTimeout,
                                 onText: { text, logprobs in reply.text(choice, text, logprobs) },
                                 isCancelled: { reply.shouldStop },
                                 onEnd: { outcome in
                                     if let key, case .success(let result) = outcome { model.resultCache.store(key, result) }
                                     reply.end(choice, outcome)
                                 })
        }
        if !model.scheduler.submit(jobs) {
            if model.scheduler.isStopping {
                // The model was unloaded or replaced between the lookup and now.
                reply.fail(.error(.serviceUnavailable, "model '\(name)' is being unloaded or reloaded; retry", code: "model_unloading",
                                  headers: HTTPHeaders([("Retry-After", "1")])))
                return
            }
            metrics.rejected.labels(name).inc()
            reply.fail(.error(.tooManyRequests, "model '\(name)' has \(model.config.maxQueue) requests waiting; retry later",
                              type: "rate_limit_error", code: "queue_full", headers: HTTPHeaders([("Retry-After", "1")])))
        }
    }

    static func generationOptions(_ f: SamplingFields, chat: Bool, contextLength: Int) throws(JSONFieldError) -> GenerationOptions {
        var o = GenerationOptions()
        if let n = f.n, n < 1 || n > maxChoices { throw JSONFieldError("'n' must be between 1 and \(maxChoices), got \(n)") }
        let most = GenerationOptions.maxTopLogprobs
        switch (chat, f.logprobs) {
        case (true, .flag(let on)?):
            if let top = f.top_logprobs {
                guard on else { throw JSONFieldError("'top_logprobs' needs 'logprobs': true") }
                guard top >= 0 && top <= most else { throw JSONFieldError("'top_logprobs' must be between 0 and \(most), got \(top)") }
            }
            o.logprobs = on ? f.top_logprobs ?? 0 : nil
        case (false, .count(let count)?):
            guard count >= 0 && count <= most else { throw JSONFieldError("'logprobs' must be between 0 and \(most), got \(count)") }
            o.logprobs = count
        case (true, .count?):
            throw JSONFieldError("field 'logprobs' has the wrong type: expected a boolean (use 'top_logprobs' for alternatives)")
        case (false, .flag?):
            throw JSONFieldError("field 'logprobs' has the wrong type: expected an integer (alternatives per token)")
        case (_, nil):
            if f.top_logprobs != nil { throw JSONFieldError("'top_logprobs' needs 'logprobs'") }
        }
        o.maxTokens = f.max_completion_tokens ?? f.max_tokens ?? 256
        guard o.maxTokens >= 1 && o.maxTokens <= contextLength else {
            throw JSONFieldError("'max_tokens' must be between 1 and the context length \(contextLength), got \(o.maxTokens)")
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
            throw JSONFieldError(error.message)
        }
        o.stop = f.stop?.all ?? []
        guard o.stop.count <= 4, o.stop.allSatisfy({ !$0.isEmpty }) else { throw JSONFieldError("'stop' takes at most 4 non-empty strings") }
        if let long = o.stop.first(where: { $0.utf8.count > GenerationOptions.maxStopBytes }) {
            throw JSONFieldError("each 'stop' string may be at most \(GenerationOptions.maxStopBytes) bytes; one is \(long.utf8.count)")
        }
        return o
    }
}
