// SHA-256 and BLAKE2b, one-shot and streaming (a bundle's blobs are hashed as they stream from the network).
import CSodium

/// SHA-256 over data given in pieces.
public struct SHA256: ~Copyable {
    public static let byteCount = 32
    private var state = crypto_hash_sha256_state()

    public init() throws(SodiumError) {
        try Sodium.start()
        crypto_hash_sha256_init(&state)
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        crypto_hash_sha256_update(&state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public consuming func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: Self.byteCount)
        crypto_hash_sha256_final(&state, &digest)
        return digest
    }

    public static func hash(_ bytes: [UInt8]) throws(SodiumError) -> [UInt8] {
        var hasher = try SHA256()
        hasher.update(bytes)
        return hasher.finish()
    }
}

/// BLAKE2b with a digest of 16 to 64 bytes, optionally keyed, over data given in pieces.
public struct BLAKE2b: ~Copyable {
    public static let maxByteCount = 64
    public let byteCount: Int
    /// libsodium's state is 64-byte aligned, which Swift cannot import as a value: it lives in memory of its own.
    private let state: OpaquePointer
    private let memory: UnsafeMutableRawPointer

    public init(byteCount: Int = 64, key: [UInt8] = []) throws(SodiumError) {
        try Sodium.start()
        guard byteCount >= Int(crypto_generichash_BYTES_MIN) && byteCount <= Int(crypto_generichash_BYTES_MAX) else {
            throw SodiumError("a BLAKE2b digest is 16 to 64 bytes, not \(byteCount)")
        }
        guard key.isEmpty || (key.count >= Int(crypto_generichash_KEYBYTES_MIN) && key.count <= Int(crypto_generichash_KEYBYTES_MAX)) else {
            throw SodiumError("a BLAKE2b key is 16 to 64 bytes, not \(key.count)")
        }
        let memory = UnsafeMutableRawPointer.allocate(byteCount: crypto_generichash_statebytes(), alignment: 64)
        let rc = key.withUnsafeBufferPointer {
            crypto_generichash_init(OpaquePointer(memory), key.isEmpty ? nil : $0.baseAddress, key.count, byteCount)
        }
        guard rc == 0 else {
            memory.deallocate()
            throw SodiumError("BLAKE2b could not start")
        }
        self.byteCount = byteCount
        self.memory = memory
        state = OpaquePointer(memory)
    }

    deinit {
        sodium_memzero(memory, crypto_generichash_statebytes())
        memory.deallocate()
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        crypto_generichash_update(state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    public consuming func finish() -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: byteCount)
        crypto_generichash_final(state, &digest, byteCount)
        return digest
    }

    public static func hash(_ bytes: [UInt8], byteCount: Int = 64, key: [UInt8] = []) throws(SodiumError) -> [UInt8] {
        var hasher = try BLAKE2b(byteCount: byteCount, key: key)
        hasher.update(bytes)
        return hasher.finish()
    }
}
