// Secret key material in memory libsodium guards: locked (never swapped), excluded from core dumps, fenced by guard
// pages, and wiped when freed (sodium_malloc / sodium_free).
import CSodium

public final class SecureBytes: @unchecked Sendable {
    private let base: UnsafeMutableRawPointer
    public let count: Int

    /// `count` zeroed bytes of guarded memory.
    public init(count: Int) throws(SodiumError) {
        try Sodium.start()
        guard count > 0, let memory = sodium_malloc(count) else {
            throw SodiumError("cannot allocate \(count) bytes of locked memory for a secret (RLIMIT_MEMLOCK?)")
        }
        sodium_memzero(memory, count)
        base = memory
        self.count = count
    }

    /// A guarded copy of `bytes`; the caller should wipe its own copy (`Sodium.wipe`).
    public convenience init(copying bytes: [UInt8]) throws(SodiumError) {
        try self.init(count: bytes.count)
        bytes.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: bytes.count) }
    }

    deinit { sodium_free(base) }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public func withUnsafeMutableBytes<R, E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeMutableRawBufferPointer(start: base, count: count))
    }
}

extension Sodium {
    /// Overwrites `bytes` with zeros in a way the compiler cannot remove.
    public static func wipe(_ bytes: inout [UInt8]) {
        bytes.withUnsafeMutableBytes { if let p = $0.baseAddress { sodium_memzero(p, $0.count) } }
    }
}
