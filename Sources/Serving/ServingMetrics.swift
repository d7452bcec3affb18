// The serving side's metrics: per model (label "model") requests, queue, batching, latency, tokens, caches and
// memory; per uid the rate limit.
import Telemetry

public struct ServingMetrics: Sendable {
    public let requests: CounterFamily
    public let promptTokens: CounterFamily
    public let generatedTokens: CounterFamily
    public let timeToFirstToken: HistogramFamily
    public let tokenLatency: HistogramFamily
    public let queueDepth: GaugeFamily
    public let activeSequences: GaugeFamily
    public let steps: CounterFamily
    public let batchTokens: HistogramFamily
    public let batchSequences: HistogramFamily
    public let prefixTokensReused: CounterFamily
    public let resultCache: CounterFamily
    public let loadSeconds: GaugeFamily
    public let memoryBytes: GaugeFamily
    public let denied: CounterFamily
    public let adminDenied: CounterFamily
    public let rejected: CounterFamily
    public let rateLimited: CounterFamily

    public init(registry: MetricsRegistry) {
        let model = ["model"]
        requests = registry.counter("outpost_model_requests_total", help: "Completion requests answered, by model and HTTP status.",
                                    labelNames: ["model", "status"])
        promptTokens = registry.counter("outpost_model_prompt_tokens_total", help: "Prompt tokens of requests that started generating, by model.",
                                        labelNames: model)
        generatedTokens = registry.counter("outpost_model_generated_tokens_total", help: "Tokens generated, by model.", labelNames: model)
        timeToFirstToken = registry.histogram("outpost_model_time_to_first_token_seconds",
                                              help: "Time from a request's arrival to its first generated token, by model.",
                                              labelNames: model, buckets: Buckets.latencySeconds)
        tokenLatency = registry.histogram("outpost_model_token_latency_seconds",
                                          help: "Time between consecutive tokens of one sequence, by model.",
                                          labelNames: model, buckets: Buckets.exponential(start: 0.002, factor: 2, count: 10))
        queueDepth = registry.gauge("outpost_model_queue_depth", help: "Requests waiting for a free sequence, by model.", labelNames: model)
        activeSequences = registry.gauge("outpost_model_active_sequences", help: "Sequences being generated, by model.", labelNames: model)
        steps = registry.counter("outpost_model_steps_total", help: "Batched forward passes run, by model.", labelNames: model)
        batchTokens = registry.histogram("outpost_model_batch_tokens", help: "Tokens per batched forward pass, by model.",
                                         labelNames: model, buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256])
        batchSequences = registry.histogram("outpost_model_batch_sequences", help: "Sequences per batched forward pass, by model.",
                                            labelNames: model, buckets: [1, 2, 3, 4, 6, 8, 12, 16, 32, 64])
        prefixTokensReused = registry.counter("outpost_model_prefix_tokens_reused_total",
                                              help: "Prompt tokens not recomputed because a sequence slot already held them, by model.",
                                              labelNames: model)
        resultCache = registry.counter("outpost_model_result_cache_total",
                                       help: "Deterministic requests looked up in the exact-result cache, by model and result (hit, miss).",
                                       labelNames: ["model", "result"])
        loadSeconds = registry.gauge("outpost_model_load_seconds", help: "Seconds the model took to load, by model.", labelNames: model)
        memoryBytes = registry.gauge("outpost_model_memory_bytes",
                                     help: "Bytes the model holds: mapped weights plus KV caches and buffers, by model.", labelNames: model)
        denied = registry.counter("outpost_access_denied_total", help: "Requests refused by access control, by model.", labelNames: model)
        adminDenied = registry.counter("outpost_admin_denied_total", help: "Admin requests refused by access control, by action.",
                                       labelNames: ["action"])
        rejected = registry.counter("outpost_model_queue_full_total", help: "Requests refused with 429 because the queue was full, by model.",
                                    labelNames: model)
        rateLimited = registry.counter("outpost_rate_limited_total", help: "Requests refused with 429 by the per-uid rate limit, by uid.",
                                       labelNames: ["uid"])
    }

    /// The children of one model; the batch scheduler reports to them.
    public struct Model: SchedulerObserver {
        let promptTokens, generatedTokens, steps, prefixTokensReused: Counter
        let timeToFirstToken, tokenLatency, batchTokens, batchSequences: Histogram
        let queueDepth, activeSequences: Gauge

        public func queued(_ count: Int) { queueDepth.inc(by: Double(count)) }
        public func dequeued() { queueDepth.dec() }
        public func sequenceStarted(reusedPrefixTokens: Int) {
            activeSequences.inc()
            if reusedPrefixTokens > 0 { prefixTokensReused.inc(by: Double(reusedPrefixTokens)) }
        }
        public func sequenceEnded() { activeSequences.dec() }
        public func stepped(tokens: Int, sequences: Int) {
            steps.inc()
            batchTokens.observe(Double(tokens))
            batchSequences.observe(Double(sequences))
        }
        public func firstToken(seconds: Double, promptTokens count: Int) {
            timeToFirstToken.observe(seconds)
            promptTokens.inc(by: Double(count))
        }
        public func nextToken(seconds: Double) { tokenLatency.observe(seconds) }
        public func generated(tokens: Int) { generatedTokens.inc(by: Double(tokens)) }
    }

    public func model(_ name: String) -> Model {
        Model(promptTokens: promptTokens.labels(name), generatedTokens: generatedTokens.labels(name), steps: steps.labels(name),
              prefixTokensReused: prefixTokensReused.labels(name), timeToFirstToken: timeToFirstToken.labels(name),
              tokenLatency: tokenLatency.labels(name), batchTokens: batchTokens.labels(name), batchSequences: batchSequences.labels(name),
              queueDepth: queueDepth.labels(name), activeSequences: activeSequences.labels(name))
    }
}
