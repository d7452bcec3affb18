// The batch scheduler on its own, no socket: what it reports to its observer, that batching is invisible in the
// tokens, and that jobs cancelled while queued never take a slot.
import Dispatch
import Inference
import Serving
import Synchronization
import TestKit
import Tokenizer
import XCTest

/// Counts every report, as the agent's metrics would.
final class RecordingObserver: SchedulerObserver {
    struct Counts: Equatable {
        var queued = 0, dequeued = 0, started = 0, ended = 0, steps = 0, stepTokens = 0, firstTokens = 0, nextTokens = 0, generated = 0
    }
    let counts = Mutex(Counts())
    func queued(_ count: Int) { counts.withLock { $0.queued += count } }
    func dequeued() { counts.withLock { $0.dequeued += 1 } }
    func sequenceStarted(reusedPrefixTokens: Int) { counts.withLock { $0.started += 1 } }
    func sequenceEnded() { counts.withLock { $0.ended += 1 } }
    func stepped(tokens: Int, sequences: Int) { counts.withLock { $0.steps += 1; $0.stepTokens += tokens } }
    func firstToken(seconds: Double, promptTokens: Int) { counts.withLock { $0.firstTokens += 1 } }
    func nextToken(seconds: Double) { counts.withLock { $0.nextTokens += 1 } }
    func generated(tokens: Int) { counts.withLock { $0.generated += tokens } }
    var now: Counts { counts.withLock { $0 } }
}

final class ModelSchedulerTests: XCTestCase {
    private func scheduler(slots: Int, maxQueue: Int, observer: RecordingObserver) throws -> (ModelScheduler, Tokenizer) {
        let file = try ModelFile(path: Fixtures.url("tiny/llama-q8_0.gguf").path)
        let tokenizer = try file.tokenizer()
        let engine = try BatchEngine(model: try file.model(), slots: slots, contextLength: 64, batchCapacity: 32, threads: 1)
        return (ModelScheduler(engine: engine, tokenizer: tokenizer, maxQueue: maxQueue, observer: observer, label: "test"), tokenizer)
    }

    /// Runs `prompts` through one scheduler at once and returns each one's result, in order.
    private func run(_ scheduler: ModelScheduler, _ prompts: [[Int32]], maxTokens: Int = 8,
                     cancelled: Set<Int> = []) -> [Result<GenerationResult, GenerationFailure>] {
        let results = Mutex([Result<GenerationResult, GenerationFailure>?](repeating: nil, count: prompts.count))
        let done = DispatchSemaphore(value: 0)
        var options = GenerationOptions()
        options.maxTokens = maxTokens
        options.sampling = .greedy
        let jobs = prompts.enumerated().map { i, prompt in
            GenerationJob(prompt: prompt, options: options, timeoutSeconds: 60, onText: { _, _ in true },
                          isCancelled: { cancelled.contains(i) },
                          onEnd: { outcome in
                              results.withLock { $0[i] = outcome }
                              done.signal()
                          })
        }
        XCTAssertTrue(scheduler.submit(jobs))
        for _ in prompts { XCTAssertEqual(done.wait(timeout: .now() + 60), .success) }
        return results.withLock { $0.map { $0! } }
    }

    private func tokens(_ outcome: Result<GenerationResult, GenerationFailure>) -> [Int32]? {
        if case .success(let result) = outcome { return result.tokens }
        return nil
    }

    func testBatchedJobsGetTheTokensTheyGetAloneAndEveryStepIsReported() throws {
        let prompts: [[Int32]] = [[1, 5, 9, 13], [1, 7], [1, 20, 21, 22, 23, 24]]
        let alone = try prompts.map { prompt -> [Int32]? in
            let (single, _) = try scheduler(slots: 1, maxQueue: 0, observer: RecordingObserver())
            defer { single.stop() }
            return tokens(run(single, [prompt])[0])
        }
        let observer = RecordingObserver()
        let (batched, _) = try scheduler(slots: 2, maxQueue: 4, observer: observer)
        let together = run(batched, prompts).map(tokens)
        batched.stop()
        XCTAssertEqual(together, alone)
        let generated = together.reduce(0) { $0 + ($1?.count ?? 0) }
        XCTAssertEqual(generated, 24)
        let counts = observer.now
        XCTAssertEqual(counts.queued, 3)
        XCTAssertEqual(counts.dequeued, 3)
        XCTAssertEqual(counts.started, 3)
        XCTAssertEqual(counts.ended, 3)
        XCTAssertEqual(counts.generated, generated)
        XCTAssertEqual(counts.firstTokens, 3)
        // Every token but the first of each sequence is a next token; the prompts and tokens all went through steps.
        XCTAssertEqual(counts.nextTokens, generated - 3)
        XCTAssertGreaterThanOrEqual(counts.stepTokens, prompts.reduce(0) { $0 + $1.count } + generated - 3)
        XCTAssertGreaterThan(counts.steps, 0)
    }

    func testAJobCancelledWhileQueuedNeverTakesASlotAndAFullQueueRefuses() throws {
        let observer = RecordingObserver()
        let (scheduler, _) = try scheduler(slots: 1, maxQueue: 1, observer: observer)
        defer { scheduler.stop() }
        let outcomes = run(scheduler, [[1, 5, 9], [1, 6, 10]], maxTokens: 4, cancelled: [1])
        guard case .success(let kept) = outcomes[0], case .success(let dropped) = outcomes[1] else {
            return XCTFail("\(outcomes)")
        }
        XCTAssertEqual(kept.tokens.count, 4)
        XCTAssertEqual(dropped.finishReason, .cancelled)
        XCTAssertTrue(dropped.tokens.isEmpty)
        XCTAssertEqual(observer.now.started, 1, "the cancelled job took a slot")
        XCTAssertEqual(observer.now.dequeued, 2)
        // One slot and one queue place: three jobs at once are refused together, none of them queued.
        var options = GenerationOptions()
        options.maxTokens = 1
        let three = (0..<3).map { _ in
            GenerationJob(prompt: [1, 2], options: options, timeoutSeconds: 60, onText: { _, _ in true }, isCancelled: { false },
                          onEnd: { _ in XCTFail("a refused job ended") })
        }
        XCTAssertFalse(scheduler.submit(three))
        XCTAssertEqual(scheduler.load, 0)
    }
}
