// One configured model in the agent: its weights, tokenizer and context, and the queue of requests that take
// turns on it. Requests run one at a time per model (no continuous batching yet).
import Dispatch
import GGUF
import Inference
import Platform
import Synchronization
import Tokenizer

final class ServedModel: @unchecked Sendable {
    let config: ModelConfig
    let access: AccessPolicy
    let tokenizer: Tokenizer
    let template: ChatTemplate?
    let info: ModelInfo
    let loadSeconds: Double
    private let mapping: MappedFile
    private let context: InferenceContext
    private let queue: DispatchQueue
    /// Requests queued or running.
    private let inFlight = Atomic<Int>(0)

    init(config: ModelConfig, defaultGroup: String, threads: Int, missing: inout [String]) throws(CLIError) {
        let started = Clock.monotonicNanoseconds()
        self.config = config
        let users = config.allowUsers, groups = config.allowGroups
        access = users.isEmpty && groups.isEmpty
            ? AccessPolicy(users: [], groups: [defaultGroup], missing: &missing)
            : AccessPolicy(users: users, groups: groups, missing: &missing)
        let file = try ModelFile(path: config.path)
        mapping = file.mapping
        tokenizer = try file.tokenizer()
        template = try? ChatTemplate.detect(gguf: file.gguf)
        let model = try file.model()
        info = model.info
        do {
            context = try InferenceContext(model: model, contextLength: min(config.contextLength, model.info.trainedContextLength),
                                           batchCapacity: 64, threads: config.threads > 0 ? config.threads : threads)
        } catch {
            throw CLIError("model \(config.name): \(error)")
        }
        queue = DispatchQueue(label: "outpost.model.\(config.name)")
        loadSeconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
    }

    var contextLength: Int { context.contextLength }
    var queued: Int { inFlight.load(ordering: .relaxed) }

    /// Runs `work` on this model's turn; false (and nothing runs) when the queue is full.
    func submit(_ work: @escaping @Sendable (Generator) -> Void) -> Bool {
        let now = inFlight.wrappingAdd(1, ordering: .relaxed).newValue
        guard now <= config.maxQueue + 1 else {
            inFlight.wrappingSubtract(1, ordering: .relaxed)
            return false
        }
        queue.async { [self] in
            defer { inFlight.wrappingSubtract(1, ordering: .relaxed) }
            work(Generator(context: context, tokenizer: tokenizer, clock: Clock.monotonicNanoseconds))
        }
        return true
    }
}
