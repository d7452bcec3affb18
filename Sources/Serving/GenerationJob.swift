// One generation request as the batch scheduler takes it, and the ways it can fail.
import Inference
import Platform

/// Why a generation ended without a result.
public enum GenerationFailure: Error, Sendable {
    /// The request ran past its timeout (seconds).
    case timedOut(Int)
    /// The model could not run it.
    case failed(ModelError)

    public var message: String {
        switch self {
        case .timedOut(let seconds): return "the request took longer than its timeout of \(seconds) s"
        case .failed(let error): return error.message
        }
    }
}

/// One generation request as the scheduler sees it. The callbacks run on the scheduler's thread.
public final class GenerationJob: @unchecked Sendable {
    public let prompt: [Int32]
    public let options: GenerationOptions
    /// Monotonic nanoseconds.
    public let arrived: UInt64
    public let deadline: UInt64
    public let timeoutSeconds: Int
    /// Text that became final and the log-probabilities of the tokens generated since the last call; returns
    /// false when nobody listens any more.
    public let onText: (String, ArraySlice<TokenLogprob>) -> Bool
    /// Whether the client went away (checked between steps).
    public let isCancelled: () -> Bool
    /// Called once at the end, with the whole result or the reason it failed.
    public let onEnd: (Result<GenerationResult, GenerationFailure>) -> Void

    public init(prompt: [Int32], options: GenerationOptions, timeoutSeconds: Int, onText: @escaping (String, ArraySlice<TokenLogprob>) -> Bool,
         isCancelled: @escaping () -> Bool, onEnd: @escaping (Result<GenerationResult, GenerationFailure>) -> Void) {
        self.prompt = prompt
        self.options = options
        arrived = Clock.monotonicNanoseconds()
        deadline = arrived &+ UInt64(timeoutSeconds) * 1_000_000_000
        self.timeoutSeconds = timeoutSeconds
        self.onText = onText
        self.isCancelled = isCancelled
        self.onEnd = onEnd
    }
}
