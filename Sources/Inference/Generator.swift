// Prompt in, text out: evaluates the prompt, then samples one token at a time until an end-of-generation token,
// a stop string, the token limit or the context's end, streaming complete UTF-8 text as it goes.
import CKernels
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
    /// nil: no log-probabilities; n >= 0: each generated token's log-probability and the n most likely alternatives.
    public var logprobs: Int?
    public init() {}

    /// At most this many alternatives per token.
    public static let maxTopLogprobs = 20
    /// The longest stop string, in bytes (the stop matcher holds back that much text).
    public static let maxStopBytes = 256

    func validated() throws(ModelError) -> GenerationOptions {
        guard maxTokens >= 0 else { throw ModelError("max_tokens must not be negative, got \(maxTokens)") }
        guard stop.count <= 16 else { throw ModelError("at most 16 stop strings, got \(stop.count)") }
        guard stop.allSatisfy({ !$0.isEmpty && $0.utf8.count <= Self.maxStopBytes }) else {
            throw ModelError("stop strings must be 1 to \(Self.maxStopBytes) bytes long")
        }
        if let logprobs, logprobs < 0 || logprobs > Self.maxTopLogprobs {
            throw ModelError("top_logprobs must be between 0 and \(Self.maxTopLogprobs), got \(logprobs)")
        }
        _ = try sampling.validated()
        return self
    }
}

/// A generated token's log-probability under the model (before temperature and truncation) and the most
/// likely alternatives at its position, most likely first.
public struct TokenLogprob: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public let token: Int32
        public let logprob: Float
    }
    public let token: Int32
    public let logprob: Float
    public let top: [Alternative]
}

public struct GenerationResult: Sendable {
    public var text = ""
    public var tokens: [Int32] = []
    public var finishReason = FinishReason.length
    public var promptTokens = 0
    /// One per generated token when log-probabilities were asked for.
    public var logprobs: [TokenLogprob] = []
    /// Nanoseconds, as measured by the clock the generator was given.
    public var promptNanoseconds: UInt64 = 0
    public var generationNanoseconds: UInt64 = 0

    public init() {}
}

/// One generation's state between forward passes: sampling, limits, stop strings and the text streamed so far.
/// The caller runs the model; `advance` takes the logits after each token fed and says what to feed next.
public struct Decoding {
    public private(set) var result = GenerationResult()
    public let options: GenerationOptions
    let tokenizer: Tokenizer
    let contextLength: Int
    private var sampler: Sampler
    private var history: [Int32]
    private var decoder: StreamingDecoder
    private var stops: StopMatcher
    /// Set once generation is over (finishReason says why).
    public private(set) var isFinished = false

    public init(prompt: [Int32], options: GenerationOptions, tokenizer: Tokenizer, contextLength: Int) throws(ModelError) {
        self.options = try options.validated()
        guard !prompt.isEmpty else { throw ModelError("the prompt has no tokens") }
        guard prompt.count < contextLength else {
            throw ModelError("the prompt has \(prompt.count) tokens; the context holds \(contextLength)")
        }
        self.tokenizer = tokenizer
        self.contextLength = contextLength
        sampler = try Sampler(self.options.sampling)
        history = prompt
        decoder = StreamingDecoder(tokenizer: tokenizer)
        stops = StopMatcher(self.options.stop)
        result.promptTokens = prompt.count
    }

    /// Takes the logits after the last token fed (`position` tokens are then in the cache) and picks the next
    /// token. Returns the text that became final (possibly empty) and the token to feed next, or nil when
    /// generation is over.
    public mutating func advance(_ logits: UnsafeBufferPointer<Float>, position: Int) throws(ModelError) -> (text: String, next: Int32?) {
        precondition(!isFinished, "advance after the generation finished")
        if result.tokens.count >= options.maxTokens { return end(.length, "") }
        let token = try sampler.sample(logits, history: history)
        if tokenizer.isEndOfGeneration(token) { return end(.stop, "") }
        if let top = options.logprobs { result.logprobs.append(Self.logprob(of: token, in: logits, top: top)) }
        result.tokens.append(token)
        history.append(token)
        let (emit, stopped) = stops.feed(decoder.append(token))
        result.text += emit
        if stopped { return end(.stop, emit) }
        if position >= contextLength { return end(.length, emit) }
        return (emit, token)
    }

    /// Ends the generation now because the caller stopped listening.
    public mutating func cancel() {
        if !isFinished { _ = end(.cancelled, "") }
    }

    /// After a normal end: the text held back (an incomplete character, or a prefix of a stop string that never
    /// completed), already added to the result.
    public mutating func finish() -> String {
        guard result.finishReason != .cancelled && !stops.stopped else { return "" }
        let rest = stops.finish(decoder.finish())
        result.text += rest
        return rest
    }

    private mutating func end(_ reason: FinishReason, _ text: String) -> (text: String, next: Int32?) {
        isFinished = true
        result.finishReason = reason
        return (text, nil)
    }

    /// log softmax(logits)[token] and the `top` largest entries.
    static func logprob(of token: Int32, in logits: UnsafeBufferPointer<Float>, top: Int) -> TokenLogprob {
        var maxLogit = -Float.infinity
        for l in logits where l > maxLogit { maxLogit = l }
        var sum: Double = 0
        for l in logits { sum += Double(ck_expf(l - maxLogit)) }
        let logZ = maxLogit + ck_logf(Float(sum))
        var best: [TokenLogprob.Alternative] = []
        if top > 0 {
            // Insertion into a short sorted list: one pass over the vocabulary.
            for (i, l) in logits.enumerated() where best.count < top || l > best[best.count - 1].logprob {
                var at = best.count
                while at > 0 && best[at - 1].logprob < l { at -= 1 }
                best.insert(.init(token: Int32(i), logprob: l), at: at)
                if best.count > top { best.removeLast() }
            }
        }
        return TokenLogprob(token: token, logprob: logits[Int(token)] - logZ,
                            top: best.map { .init(token: $0.token, logprob: $0.logprob - logZ) })
    }
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
        var decoding = try Decoding(prompt: prompt, options: options, tokenizer: tokenizer, contextLength: context.contextLength)
        context.rewind(to: 0)
        let promptStart = clock()
        var logits = try context.evaluate(prompt)
        let promptNanoseconds = clock() - promptStart
        let generationStart = clock()
        while true {
            let (text, next) = try decoding.advance(logits, position: context.position)
            if !text.isEmpty && !onText(text) {
                decoding.cancel()
                break
            }
            guard let next else { break }
            logits = try context.evaluate([next])
        }
        let rest = decoding.finish()
        if !rest.isEmpty { _ = onText(rest) }
        var result = decoding.result
        result.promptNanoseconds = promptNanoseconds
        result.generationNanoseconds = clock() - generationStart
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
