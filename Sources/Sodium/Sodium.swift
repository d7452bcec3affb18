// Swift over libsodium: the one place that calls it. sodium_init runs once, before the first call of any kind.
import CSodium

public enum Sodium {
    /// libsodium's own start-up (it picks implementations and seeds its generator); safe to call often.
    static let started: Bool = sodium_init() >= 0

    static func start() throws(SodiumError) {
        guard started else { throw SodiumError("libsodium could not be initialised") }
    }

    /// `count` bytes from the operating system's generator.
    public static func randomBytes(_ count: Int) throws(SodiumError) -> [UInt8] {
        try start()
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { if let base = $0.baseAddress { randombytes_buf(base, $0.count) } }
        return bytes
    }

    /// Equality in time that depends only on the length (for tags, keys and key ids).
    public static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        guard !a.isEmpty else { return true }
        _ = started
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in sodium_memcmp(x.baseAddress, y.baseAddress, a.count) == 0 } }
    }
}
