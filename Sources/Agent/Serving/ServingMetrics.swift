// The serving side's metrics: per model (label "model") requests, queue, batching, latency, tokens, caches and
// memory; per uid the rate limit.
import Telemetry

struct ServingMetrics: Sendable {
    let requests: CounterFamily
    let promptTokens: CounterFamily
    let generatedTokens: CounterFamily
    let timeToFirstToken: HistogramFamily
    let tokenLatency: HistogramFamily
    let queueDepth: GaugeFamily
    let activeSequences: GaugeFamily
    let steps: CounterFamily
    let batchTokens: HistogramFamily
    let batchSequences: HistogramFamily
    let prefixTokensReused: CounterFamily
    let resultCache: CounterFamily
    let loadSeconds: GaugeFamily
    let memoryBytes: GaugeFamily
    let denied: CounterFamily
    let adminDenied: CounterFamily
    let rejected: CounterFamily
    let rateLimited: CounterFamily

    init(registry: MetricsRegistry) {
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

    /// The children of one model.
    struct Model: Sendable {
        let promptTokens, generatedTokens, steps, prefixTokensReused: Counter
        let timeToFirstToken, tokenLatency, batchTokens, batchSequences: Histogram
        let queueDepth, activeSequences: Gauge
    }

    func model(_ name: String) -> Model {
        Model(promptTokens: promptTokens.labels(name), generatedTokens: generatedTokens.labels(name), steps: steps.labels(name),
              prefixTokensReused: prefixTokensReused.labels(name), timeToFirstToken: timeToFirstToken.labels(name),
              tokenLatency: tokenLatency.labels(name), batchTokens: batchTokens.labels(name), batchSequences: batchSequences.labels(name),
              queueDepth: queueDepth.labels(name), activeSequences: activeSequences.labels(name))
    }
}
