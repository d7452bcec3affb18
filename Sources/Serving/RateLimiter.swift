// Per-uid token buckets for the model routes: a client may make `burst` requests at once and `perMinute` a
// minute on average; beyond that it gets 429 with the seconds until its next token.
import Synchronization

public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let perMinute: Int
    public let burst: Int
    private let buckets = Mutex<[UInt32: Bucket]>([:])

    public init(perMinute: Int, burst: Int) {
        self.perMinute = perMinute
        self.burst = max(1, burst)
    }

    public var isEnabled: Bool { perMinute > 0 }

    /// Takes a token for `uid` at time `now` (seconds); nil when allowed, else the seconds to wait.
    public func take(uid: UInt32, now: Double) -> Double? {
        guard isEnabled else { return nil }
        let rate = Double(perMinute) / 60
        return buckets.withLock { table -> Double? in
            var bucket = table[uid] ?? Bucket(tokens: Double(burst), updated: now)
            bucket.tokens = min(Double(burst), bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            defer {
                table[uid] = bucket
                // Forget clients whose buckets are full again, so the table stays as small as the active set.
                if table.count > 4096 { table = table.filter { $0.value.tokens < Double(burst) } }
            }
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                return nil
            }
            return (1 - bucket.tokens) / rate
        }
    }
}
