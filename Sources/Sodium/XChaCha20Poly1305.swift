// XChaCha20-Poly1305 (IETF construction, 192-bit nonces): authenticated encryption for data at rest. A nonce this
// long may be chosen at random per message without fear of a repeat.
import CSodium

public enum XChaCha20Poly1305 {
    public static let keyBytes = 32
    public static let nonceBytes = 24
    public static let tagBytes = 16

    /// Encrypts `plaintext` into `output` (`plaintext.count + tagBytes` bytes: ciphertext, then tag), binding
    /// `additionalData` into the tag.
    public static func seal(_ plaintext: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                            additionalData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, key: SecureBytes) throws(SodiumError) {
        try Sodium.start()
        guard key.count == keyBytes, nonce.count == nonceBytes, output.count == plaintext.count + tagBytes else {
            throw SodiumError("XChaCha20-Poly1305: a \(keyBytes)-byte key, a \(nonceBytes)-byte nonce and room for the tag are needed")
        }
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_encrypt(
                output.baseAddress!.assumingMemoryBound(to: UInt8.self), &written,
                plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count), nil,
                nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0, written == UInt64(output.count) else { throw SodiumError("XChaCha20-Poly1305 encryption failed") }
    }

    /// Decrypts `sealed` (ciphertext and tag) into `output` (`sealed.count - tagBytes` bytes); false when the tag
    /// does not match (wrong key, nonce or additional data, or altered bytes), and `output` is then zeroed.
    public static func open(_ sealed: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                            additionalData: UnsafeRawBufferPointer, nonce: UnsafeRawBufferPointer, key: SecureBytes) -> Bool {
        guard Sodium.started, key.count == keyBytes, nonce.count == nonceBytes, sealed.count >= tagBytes,
              output.count == sealed.count - tagBytes else { return false }
        var written: UInt64 = 0
        let rc = key.withUnsafeBytes { k in
            crypto_aead_xchacha20poly1305_ietf_decrypt(
                output.baseAddress?.assumingMemoryBound(to: UInt8.self), &written, nil,
                sealed.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(sealed.count),
                additionalData.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(additionalData.count),
                nonce.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        if rc != 0, output.count > 0 { sodium_memzero(output.baseAddress!, output.count) }
        return rc == 0
    }

    /// Convenience over arrays (small records).
    public static func seal(_ plaintext: [UInt8], additionalData: [UInt8], nonce: [UInt8], key: SecureBytes) throws(SodiumError) -> [UInt8] {
        var output = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var failure: SodiumError?
        plaintext.withUnsafeBytes { p in additionalData.withUnsafeBytes { a in nonce.withUnsafeBytes { n in output.withUnsafeMutableBytes { o in
            do throws(SodiumError) { try seal(p, into: o, additionalData: a, nonce: n, key: key) } catch { failure = error }
        } } } }
        if let failure { throw failure }
        return output
    }

    public static func open(_ sealed: [UInt8], additionalData: [UInt8], nonce: [UInt8], key: SecureBytes) -> [UInt8]? {
        guard sealed.count >= tagBytes else { return nil }
        var output = [UInt8](repeating: 0, count: sealed.count - tagBytes)
        let ok = sealed.withUnsafeBytes { s in additionalData.withUnsafeBytes { a in nonce.withUnsafeBytes { n in output.withUnsafeMutableBytes { o in
            open(s, into: o, additionalData: a, nonce: n, key: key)
        } } } }
        return ok ? output : nil
    }
}
