// Ed25519 signatures (RFC 8032), detached: what minisign signs with.
import CSodium

public enum Ed25519 {
    public static let publicKeyBytes = 32
    public static let secretKeyBytes = 64
    public static let seedBytes = 32
    public static let signatureBytes = 64

    public struct KeyPair: Sendable {
        public let publicKey: [UInt8]
        /// libsodium's 64-byte form: the seed followed by the public key.
        public let secretKey: SecureBytes
    }

    /// A fresh key pair from the system's generator, or the one a 32-byte seed determines.
    public static func keyPair(seed: SecureBytes? = nil) throws(SodiumError) -> KeyPair {
        try Sodium.start()
        if let seed, seed.count != seedBytes { throw SodiumError("an Ed25519 seed is \(seedBytes) bytes, not \(seed.count)") }
        var publicKey = [UInt8](repeating: 0, count: publicKeyBytes)
        let secret = try SecureBytes(count: secretKeyBytes)
        let rc = secret.withUnsafeMutableBytes { sk in
            let skp = sk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            if let seed {
                return seed.withUnsafeBytes { crypto_sign_seed_keypair(&publicKey, skp, $0.baseAddress!.assumingMemoryBound(to: UInt8.self)) }
            }
            return crypto_sign_keypair(&publicKey, skp)
        }
        guard rc == 0 else { throw SodiumError("Ed25519 key generation failed") }
        return KeyPair(publicKey: publicKey, secretKey: secret)
    }

    /// The detached signature of `message`.
    public static func sign(_ message: [UInt8], secretKey: SecureBytes) throws(SodiumError) -> [UInt8] {
        try Sodium.start()
        guard secretKey.count == secretKeyBytes else { throw SodiumError("an Ed25519 secret key is \(secretKeyBytes) bytes, not \(secretKey.count)") }
        var signature = [UInt8](repeating: 0, count: signatureBytes)
        let rc = secretKey.withUnsafeBytes { sk in
            crypto_sign_detached(&signature, nil, message, UInt64(message.count), sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw SodiumError("Ed25519 signing failed") }
        return signature
    }

    /// Whether `signature` is `publicKey`'s signature of `message`. Wrong sizes are simply not valid.
    public static func verify(_ signature: [UInt8], of message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == signatureBytes, publicKey.count == publicKeyBytes, Sodium.started else { return false }
        return crypto_sign_verify_detached(signature, message, UInt64(message.count), publicKey) == 0
    }
}
