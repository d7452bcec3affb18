// Exact results of deterministic requests (temperature 0, or a fixed seed), keyed by model, prompt tokens and
// every option that shapes the output, bounded in bytes, least recently used out first. Only whole results
// are kept: cancelled or failed generations never enter.
import Inference
import Synchronization

public final class ResultCache: Sendable {
    public struct Key: Hashable, Sendable {
        let prompt: [Int32]
        let maxTokens: Int
        let sampling: SamplingParameters
        let stop: [String]
        let logprobs: Int?
    }

    private struct Entry {
        var result: GenerationResult
        var bytes: Int
        var lastUse: UInt64
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    public let capacity: Int
    private let state = Mutex(State())

    /// `capacity` bytes at most; 0 disables the cache.
    public init(capacity: Int) {
        self.capacity = max(0, capacity)
    }

    /// The key for a request whose output is determined by its inputs, or nil when it is not.
    public static func key(prompt: [Int32], options: GenerationOptions) -> Key? {
        guard options.sampling.temperature == 0 || options.sampling.seed != nil else { return nil }
        return Key(prompt: prompt, maxTokens: options.maxTokens, sampling: options.sampling, stop: options.stop, logprobs: options.logprobs)
    }

    public func lookup(_ key: Key) -> GenerationResult? {
        state.withLock { s -> GenerationResult? in
            guard var entry = s.entries[key] else { return nil }
            s.clock += 1
            entry.lastUse = s.clock
            s.entries[key] = entry
            return entry.result
        }
    }

    public func store(_ key: Key, _ result: GenerationResult) {
        guard capacity > 0, result.finishReason != .cancelled else { return }
        let bytes = Self.size(key, result)
        guard bytes <= capacity / 4 else { return }
        state.withLock { s in
            if let old = s.entries.removeValue(forKey: key) { s.bytes -= old.bytes }
            while s.bytes + bytes > capacity, let oldest = s.entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
                s.bytes -= oldest.value.bytes
                s.entries.removeValue(forKey: oldest.key)
            }
            s.clock += 1
            s.entries[key] = Entry(result: result, bytes: bytes, lastUse: s.clock)
            s.bytes += bytes
        }
    }

    /// Approximate bytes an entry holds.
    public static func size(_ key: Key, _ result: GenerationResult) -> Int {
        128 + key.prompt.count * 4 + key.stop.reduce(0) { $0 + $1.utf8.count + 16 } + result.text.utf8.count + result.tokens.count * 4
            + result.logprobs.reduce(0) { $0 + 16 + $1.top.count * 8 }
    }
}
