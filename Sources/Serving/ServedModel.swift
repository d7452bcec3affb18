// One configured model in the agent: its weights, tokenizer, the batch engine with one KV cache per parallel
// sequence, the scheduler that runs them, and the exact-result cache.
import Config
import GGUF
import Inference
import Platform
import Synchronization
import Tokenizer

public final class ServedModel: @unchecked Sendable {
    public let config: ModelConfig
    /// The [access] client group the policy falls back to (a reload that changes it rebuilds the model).
    public let defaultGroup: String
    public let access: AccessPolicy
    public let tokenizer: Tokenizer
    public let template: ChatTemplate?
    public let info: ModelInfo
    public let loadSeconds: Double
    public let contextLength: Int
    public let resultCache: ResultCache
    /// Mapped weights plus caches and buffers.
    public let memoryBytes: Int
    public let scheduler: ModelScheduler
    /// The bundle version served, for a model from the store.
    public let version: String?
    private let mapping: MappedFile

    /// Tokens one forward pass takes at most: a prompt chunk plus one token per parallel sequence.
    public static let batchCapacity = 128

    /// `reserve` is told the bytes the model will hold (mapped file plus buffers) before they are allocated, and
    /// throws to refuse them.
    public init(config: ModelConfig, file: ModelFile, version: String? = nil, defaultGroup: String, threads: Int, metrics: ServingMetrics,
                missing: inout [String], reserve: (Int) throws(ServingError) -> Void) throws(ServingError) {
        let started = Clock.monotonicNanoseconds()
        self.config = config
        self.defaultGroup = defaultGroup
        let users = config.allowUsers, groups = config.allowGroups
        access = users.isEmpty && groups.isEmpty
            ? AccessPolicy(users: [], groups: [defaultGroup], missing: &missing)
            : AccessPolicy(users: users, groups: groups, missing: &missing)
        self.version = version
        mapping = file.mapping
        tokenizer = try file.tokenizer()
        template = try? ChatTemplate.detect(gguf: file.gguf)
        let model = try file.model()
        info = model.info
        let contextLength = min(config.contextLength, model.info.trainedContextLength)
        let batchCapacity = max(Self.batchCapacity, config.parallel)
        memoryBytes = mapping.count + BatchEngine.byteCount(model: model, slots: config.parallel, contextLength: contextLength,
                                                            batchCapacity: batchCapacity)
        try reserve(memoryBytes)
        let engine: BatchEngine
        do {
            engine = try BatchEngine(model: model, slots: config.parallel, contextLength: contextLength, batchCapacity: batchCapacity,
                                     threads: config.threads > 0 ? config.threads : threads)
        } catch {
            throw ServingError("model \(config.name): \(error)")
        }
        self.contextLength = engine.contextLength
        resultCache = ResultCache(capacity: config.resultCacheBytes)
        scheduler = ModelScheduler(engine: engine, tokenizer: tokenizer, maxQueue: config.maxQueue, observer: metrics.model(config.name),
                                   label: config.name)
        loadSeconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
        metrics.loadSeconds.labels(config.name).set(loadSeconds)
        metrics.memoryBytes.labels(config.name).set(Double(memoryBytes))
    }

    /// Monotonic nanoseconds of the last request (for keep-alive).
    private let lastUse = Atomic<UInt64>(Clock.monotonicNanoseconds())
    public func touch() { lastUse.store(Clock.monotonicNanoseconds(), ordering: .relaxed) }
    public var idleSeconds: Double { Double(Clock.monotonicNanoseconds() &- lastUse.load(ordering: .relaxed)) / 1e9 }

}
