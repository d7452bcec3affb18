// Keys derived from one master key, and keyed digests, without the master key ever leaving guarded memory:
// BLAKE2b keyed with the master key over a context string (libsodium's crypto_kdf is the same construction).
import CSodium

public enum KeyDerivation {
    /// A `byteCount`-byte subkey of `key` for `context` (a fixed string per purpose: "store-encryption", ...).
    public static func subkey(of key: SecureBytes, context: String, byteCount: Int = 32) throws(SodiumError) -> SecureBytes {
        try Sodium.start()
        guard (16...64).contains(key.count), (16...64).contains(byteCount) else { throw SodiumError("key derivation takes 16- to 64-byte keys") }
        let output = try SecureBytes(count: byteCount)
        let message = Array("outpost-kdf:\(context)".utf8)
        let rc = key.withUnsafeBytes { k in
            output.withUnsafeMutableBytes { o in
                crypto_generichash(o.baseAddress!.assumingMemoryBound(to: UInt8.self), byteCount, message, UInt64(message.count),
                                   k.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
            }
        }
        guard rc == 0 else { throw SodiumError("key derivation failed") }
        return output
    }

    /// BLAKE2b-256 of `message` keyed with `key`: a name or tag only the key's holder can compute.
    public static func keyedDigest(_ message: [UInt8], key: SecureBytes) throws(SodiumError) -> [UInt8] {
        try Sodium.start()
        guard (16...64).contains(key.count) else { throw SodiumError("a keyed digest takes a 16- to 64-byte key") }
        var output = [UInt8](repeating: 0, count: 32)
        let rc = key.withUnsafeBytes { k in
            crypto_generichash(&output, 32, message, UInt64(message.count), k.baseAddress!.assumingMemoryBound(to: UInt8.self), key.count)
        }
        guard rc == 0 else { throw SodiumError("keyed digest failed") }
        return output
    }
}
