// Continuous batching for one model: a thread that runs every active sequence's next token in one forward pass
// per step, admits waiting requests into free sequence slots between steps (their prompts prefilled in chunks
// beside the running streams), and frees a slot as soon as its sequence ends, is cancelled or times out.
import Dispatch
import Inference
import Platform
import Synchronization
import Tokenizer

public final class ModelScheduler: @unchecked Sendable {
    private let engine: BatchEngine
    private let tokenizer: Tokenizer
    private let maxQueue: Int
    private let observer: any SchedulerObserver
    /// Prompt tokens one sequence may prefill in a step while other sequences are generating.
    private let prefillChunkWhileBusy = 32

    private struct Shared {
        var waiting: [GenerationJob] = []
        /// Jobs waiting or holding a slot.
        var admitted = 0
        var stopping = false
        var stopped = false
    }
    private let shared = Mutex(Shared())
    private let wake = DispatchSemaphore(value: 0)
    private let finished = DispatchSemaphore(value: 0)

    /// A sequence holding a slot (scheduler thread only).
    private struct Running {
        let job: GenerationJob
        var decoding: Decoding
        /// Prompt tokens not yet evaluated start here.
        var prefilled: Int
        /// The token to feed next once the prompt is in.
        var next: Int32?
        var firstTokenAt: UInt64?
        var lastTokenAt: UInt64 = 0
        var logprobsSent = 0
    }
    private var running: [Running?]
    private var lastUsed: [UInt64]

    /// Starts the scheduler's thread; `observer` hears of every queue change, step and token.
    public init(engine: BatchEngine, tokenizer: Tokenizer, maxQueue: Int, observer: any SchedulerObserver, label: String) {
        self.engine = engine
        self.tokenizer = tokenizer
        self.maxQueue = maxQueue
        self.observer = observer
        running = Array(repeating: nil, count: engine.slots)
        lastUsed = Array(repeating: 0, count: engine.slots)
        DispatchQueue(label: "outpost.scheduler.\(label)").async { [self] in
            loop()
            finished.signal()
        }
    }

    /// Requests waiting or running.
    public var load: Int { shared.withLock { $0.admitted } }
    /// Whether stop() was called: new requests are refused.
    public var isStopping: Bool { shared.withLock { $0.stopping } }

    /// Queues `jobs` (the choices of one request) together, or none of them: false when the queue has no room for
    /// all or the model is being unloaded (nothing will be called then).
    public func submit(_ jobs: [GenerationJob]) -> Bool {
        let accepted = shared.withLock { s -> Bool in
            guard !s.stopping, s.admitted + jobs.count <= engine.slots + maxQueue else { return false }
            s.admitted += jobs.count
            s.waiting += jobs
            return true
        }
        if accepted {
            observer.queued(jobs.count)
            wake.signal()
        }
        return accepted
    }

    /// Lets running and queued requests finish, refuses new ones, then stops the thread. Blocks until it has.
    public func stop() {
        shared.withLock { $0.stopping = true }
        wake.signal()
        finished.wait()
    }

    private func loop() {
        while true {
            admit()
            if running.allSatisfy({ $0 == nil }) {
                let done = shared.withLock { s -> Bool in
                    if s.stopping && s.waiting.isEmpty { s.stopped = true }
                    return s.stopped
                }
                if done { return }
                wake.wait()
                continue
            }
            step()
        }
    }

    /// Moves waiting jobs into free slots, each into the slot whose cache shares the longest prefix with its prompt.
    private func admit() {
        while running.contains(where: { $0 == nil }) {
            guard let job = shared.withLock({ s -> GenerationJob? in s.waiting.isEmpty ? nil : s.waiting.removeFirst() }) else { return }
            observer.dequeued()
            // Clients that left, or waited past their deadline, while queued never take a slot.
            if job.isCancelled() {
                var result = GenerationResult()
                result.promptTokens = job.prompt.count
                result.finishReason = .cancelled
                end(job, .success(result))
                continue
            }
            if Clock.monotonicNanoseconds() > job.deadline {
                end(job, .failure(.timedOut(job.timeoutSeconds)))
                continue
            }
            var best = -1, bestShared = -1
            for slot in running.indices where running[slot] == nil {
                let common = engine.commonPrefix(slot: slot, with: job.prompt)
                if best < 0 || common > bestShared || (common == bestShared && lastUsed[slot] < lastUsed[best]) {
                    best = slot
                    bestShared = common
                }
            }
            // At least the prompt's last token is evaluated again: its logits start the generation.
            let reuse = min(bestShared, job.prompt.count - 1)
            engine.rewind(slot: best, to: reuse)
            do {
                let decoding = try Decoding(prompt: job.prompt, options: job.options, tokenizer: tokenizer, contextLength: engine.contextLength)
                running[best] = Running(job: job, decoding: decoding, prefilled: reuse)
                observer.sequenceStarted(reusedPrefixTokens: reuse)
            } catch {
                end(job, .failure(.failed(error)))
            }
        }
    }

    /// One forward pass over every running sequence's next tokens.
    private func step() {
        var work: [BatchEngine.Work] = []
        for (slot, r) in running.enumerated() {
            if let next = r?.next { work.append(.init(slot: slot, tokens: [next], wantsLogits: true)) }
        }
        let generating = work.count
        var budget = engine.batchCapacity - generating
        for (slot, r) in running.enumerated() where budget > 0 {
            guard let r, r.next == nil else { continue }
            let left = r.job.prompt.count - r.prefilled
            let chunk = min(left, budget, generating > 0 ? prefillChunkWhileBusy : engine.batchCapacity)
            guard chunk > 0 else { continue }
            work.append(.init(slot: slot, tokens: Array(r.job.prompt[r.prefilled..<(r.prefilled + chunk)]), wantsLogits: chunk == left))
            running[slot]!.prefilled += chunk
            budget -= chunk
        }
        let tokens = work.reduce(0) { $0 + $1.tokens.count }
        let logits: [UnsafeBufferPointer<Float>?]
        do {
            logits = try engine.step(work)
        } catch {
            for w in work { release(slot: w.slot, .failure(.failed(error))) }
            return
        }
        observer.stepped(tokens: tokens, sequences: work.count)
        let now = Clock.monotonicNanoseconds()
        for (w, l) in zip(work, logits) {
            guard let l, var r = running[w.slot] else { continue }
            let before = r.decoding.result.tokens.count
            let text: String, next: Int32?
            do {
                (text, next) = try r.decoding.advance(l, position: engine.position(slot: w.slot))
            } catch {
                release(slot: w.slot, .failure(.failed(error)))
                continue
            }
            if r.firstTokenAt == nil {
                r.firstTokenAt = now
                observer.firstToken(seconds: Double(now - r.job.arrived) / 1e9, promptTokens: r.job.prompt.count)
            } else if r.decoding.result.tokens.count > before {
                observer.nextToken(seconds: Double(now - r.lastTokenAt) / 1e9)
            }
            r.lastTokenAt = now
            r.next = next
            if !text.isEmpty {
                let all = r.decoding.result.logprobs
                let fresh = all[r.logprobsSent...]
                r.logprobsSent = all.count
                if !r.job.onText(text, fresh) { r.decoding.cancel() }
            }
            running[w.slot] = r
            if r.decoding.isFinished { finish(slot: w.slot) }
        }
        // Clients that went away and requests past their deadline leave before the next step.
        for slot in running.indices {
            guard let r = running[slot] else { continue }
            if r.job.isCancelled() {
                running[slot]!.decoding.cancel()
                finish(slot: slot)
            } else if now > r.job.deadline {
                release(slot: slot, .failure(.timedOut(r.job.timeoutSeconds)))
            }
        }
    }

    private func finish(slot: Int) {
        guard var r = running[slot] else { return }
        let rest = r.decoding.finish()
        if !rest.isEmpty {
            let all = r.decoding.result.logprobs
            _ = r.job.onText(rest, all[r.logprobsSent...])
        }
        var result = r.decoding.result
        result.promptNanoseconds = (r.firstTokenAt ?? r.job.arrived) - r.job.arrived
        result.generationNanoseconds = r.firstTokenAt.map { Clock.monotonicNanoseconds() - $0 } ?? 0
        observer.generated(tokens: result.tokens.count)
        running[slot] = r
        release(slot: slot, .success(result))
    }

    private func release(slot: Int, _ outcome: Result<GenerationResult, GenerationFailure>) {
        guard let r = running[slot] else { return }
        running[slot] = nil
        lastUsed[slot] = Clock.monotonicNanoseconds()
        observer.sequenceEnded()
        end(r.job, outcome)
    }

    private func end(_ job: GenerationJob, _ outcome: Result<GenerationResult, GenerationFailure>) {
        shared.withLock { $0.admitted -= 1 }
        job.onEnd(outcome)
    }
}
