// Prompt in, text out: evaluates the prompt, then samples one token at a time until an end-of-generation token,
// a stop string, the token limit or the context's end, streaming complete UTF-8 text as it goes.
import Tokenizer

public enum FinishReason: String, Sendable {
    /// End-of-generation token or a stop string.
    case stop
    /// max_tokens reached, or the context is full.
    case length
    /// The caller asked to stop.
    case cancelled
}

public struct GenerationOptions: Sendable {
    public var maxTokens: Int = 256
    public var sampling = SamplingParameters()
    /// Generation stops before the first occurrence of any of these; the stop string is not returned.
    public var stop: [String] = []
    public init() {}

    func validated() throws(ModelError) -> GenerationOptions {
        guard maxTokens >= 0 else { throw ModelError("max_tokens must not be negative, got \(maxTokens)") }
        guard stop.count <= 16 else { throw ModelError("at most 16 stop strings, got \(stop.count)") }
        guard stop.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
            throw ModelError("stop strings must be 1 to 256 bytes long")
        }
        _ = try sampling.validated()
        return self
    }
}

public struct GenerationResult: Sendable {
    public var text = ""
    public var tokens: [Int32] = []
    public var finishReason = FinishReason.length
    public var promptTokens = 0
    /// Nanoseconds, as measured by the clock the generator was given.
    public var promptNanoseconds: UInt64 = 0
    public var generationNanoseconds: UInt64 = 0
}

public struct Generator {
    let context: InferenceContext
    let tokenizer: Tokenizer
    /// Monotonic nanoseconds; the numeric side does not read clocks itself.
    let clock: () -> UInt64

    public init(context: InferenceContext, tokenizer: Tokenizer, clock: @escaping () -> UInt64) {
        self.context = context
        self.tokenizer = tokenizer
        self.clock = clock
    }

    /// Generates after `prompt` (which replaces whatever the context held). `onText` receives text as it becomes
    /// final and returns false to cancel.
    public func generate(prompt: [Int32], options: GenerationOptions, onText: (String) -> Bool) throws(ModelError) -> GenerationResult {
        let options = try options.validated()
        var sampler = try Sampler(options.sampling)
        var result = GenerationResult()
        result.promptTokens = prompt.count
        guard prompt.count < context.contextLength else {
            throw ModelError("the prompt has \(prompt.count) tokens; the context holds \(context.contextLength)")
        }
        context.rewind(to: 0)
        let promptStart = clock()
        var logits = try context.evaluate(prompt)
        result.promptNanoseconds = clock() - promptStart

        var history = prompt
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var stops = StopMatcher(options.stop)
        let generationStart = clock()
        while true {
            if result.tokens.count >= options.maxTokens {
                result.finishReason = .length
                break
            }
            let token = sampler.sample(logits, history: history)
            if tokenizer.isEndOfGeneration(token) {
                result.finishReason = .stop
                break
            }
            result.tokens.append(token)
            history.append(token)
            let (emit, stopped) = stops.feed(decoder.append(token))
            result.text += emit
            if !emit.isEmpty && !onText(emit) {
                result.finishReason = .cancelled
                break
            }
            if stopped {
                result.finishReason = .stop
                break
            }
            guard context.position < context.contextLength else {
                result.finishReason = .length
                break
            }
            logits = try context.evaluate([token])
        }
        result.generationNanoseconds = clock() - generationStart
        if result.finishReason != .cancelled && !stops.stopped {
            let rest = stops.finish(decoder.finish())
            result.text += rest
            if !rest.isEmpty { _ = onText(rest) }
        }
        return result
    }
}

/// Holds back text that might be the start of a stop string until it is known not to be.
struct StopMatcher {
    let stops: [[UInt8]]
    private var pending: [UInt8] = []
    /// A stop string was found: nothing more is emitted.
    private(set) var stopped = false

    init(_ stops: [String]) {
        self.stops = stops.map { Array($0.utf8) }
    }

    /// Adds text; returns what can be emitted now and whether a stop string was found.
    mutating func feed(_ text: String) -> (String, Bool) {
        pending += Array(text.utf8)
        guard !stops.isEmpty else { return (flush(), false) }
        var earliest: Int?
        for stop in stops {
            if let at = find(stop), at < (earliest ?? Int.max) { earliest = at }
        }
        if let earliest {
            let emit = String(decoding: pending[0..<earliest], as: UTF8.self)
            pending.removeAll()
            stopped = true
            return (emit, true)
        }
        // Keep the longest suffix that is a proper prefix of some stop string.
        var hold = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, pending.count), to: hold, by: -1)
            where pending[(pending.count - length)...].elementsEqual(stop[0..<length]) {
                hold = length
                break
            }
        }
        let emit = String(decoding: pending[0..<(pending.count - hold)], as: UTF8.self)
        pending.removeFirst(pending.count - hold)
        return (emit, false)
    }

    mutating func finish(_ text: String) -> String {
        let (emit, stopped) = feed(text)
        return stopped ? emit : emit + flush()
    }

    private mutating func flush() -> String {
        defer { pending.removeAll() }
        return String(decoding: pending, as: UTF8.self)
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard needle.count <= pending.count else { return nil }
        for start in 0...(pending.count - needle.count) where pending[start..<(start + needle.count)].elementsEqual(needle) {
            return start
        }
        return nil
    }
}
