// minisign's key and signature files, read and written byte for byte as minisign does (its minisign.h and
// minisign.c): public keys, secret keys (scrypt-encrypted, or unencrypted as `minisign -W` writes them) and
// signatures (prehashed "ED" over BLAKE2b-512, legacy "Ed" over the message), each with its trusted comment and the
// global signature over signature and comment. Checks run in a fixed order, each refusing on its own: algorithm
// tags, key id, the signature, then the trusted comment's signature.
import FoundationEssentials
import Sodium

public struct MinisignError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum Minisign {
    public static let untrustedPrefix = "untrusted comment: "
    public static let trustedPrefix = "trusted comment: "
    static let keyIDBytes = 8
    static let maxTrustedCommentBytes = 8192

    /// The two lines of a minisign file that matter: the comment after `prefix` and the base64 payload of
    /// `expectedBytes` bytes on the next line. `what` names the file in errors.
    static func commentAndPayload(_ lines: [Substring], at index: Int, prefix: String, expectedBytes: Int,
                                  what: String) throws(MinisignError) -> (comment: String, payload: [UInt8]) {
        guard index + 1 < lines.count else { throw MinisignError("\(what) is cut short: expected a comment line and a base64 line") }
        let commentLine = lines[index]
        guard commentLine.hasPrefix(prefix) else {
            throw MinisignError("\(what): line \(index + 1) should start with \"\(prefix)\"")
        }
        guard let payload = Data(base64Encoded: String(lines[index + 1])) else {
            throw MinisignError("\(what): line \(index + 2) is not base64")
        }
        guard payload.count == expectedBytes else {
            throw MinisignError("\(what): line \(index + 2) holds \(payload.count) bytes, expected \(expectedBytes)")
        }
        return (String(commentLine.dropFirst(prefix.count)), [UInt8](payload))
    }

    static func lines(_ text: String) -> [Substring] {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    }

    static func base64(_ bytes: [UInt8]) -> String { Data(bytes).base64EncodedString() }

    /// A key id as minisign prints it: eight bytes, little-endian, in upper-case hex.
    public static func keyIDText(_ id: [UInt8]) -> String {
        id.reversed().map { byte in
            let digits = String(byte, radix: 16, uppercase: true)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }
}

/// `untrusted comment: ...` / base64("Ed" | key id (8) | Ed25519 public key (32)).
public struct MinisignPublicKey: Sendable, Equatable {
    public let keyID: [UInt8]
    public let key: [UInt8]

    public init(keyID: [UInt8], key: [UInt8]) {
        self.keyID = keyID
        self.key = key
    }

    /// A public key file's text, or the bare base64 line (`minisign -P`).
    public init(text: String, what: String = "the public key") throws(MinisignError) {
        let lines = Minisign.lines(text).filter { !$0.isEmpty }
        let payload: [UInt8]
        if lines.count == 1 {
            guard let data = Data(base64Encoded: String(lines[0])), data.count == 42 else {
                throw MinisignError("\(what) is not a minisign public key (42 bytes of base64)")
            }
            payload = [UInt8](data)
        } else {
            payload = try Minisign.commentAndPayload(lines, at: 0, prefix: Minisign.untrustedPrefix, expectedBytes: 42, what: what).payload
        }
        guard payload[0] == UInt8(ascii: "E"), payload[1] == UInt8(ascii: "d") else {
            throw MinisignError("\(what) uses signature algorithm \(Array(payload[0..<2])) where minisign's is \"Ed\"")
        }
        keyID = Array(payload[2..<10])
        key = Array(payload[10..<42])
    }

    public func text(comment: String? = nil) -> String {
        Minisign.untrustedPrefix + (comment ?? "minisign public key \(Minisign.keyIDText(keyID))") + "\n"
            + Minisign.base64(Array("Ed".utf8) + keyID + key) + "\n"
    }
}

/// A secret key: base64("Ed" | "Sc" or "\0\0" | "B2" | salt (32) | opslimit (8, LE) | memlimit (8, LE) |
/// [key id (8) | Ed25519 secret key (64) | BLAKE2b-256 checksum (32)], the bracket XORed with scrypt's output when
/// encrypted).
public struct MinisignSecretKey: Sendable {
    public let keyID: [UInt8]
    public let secretKey: SecureBytes

    static let payloadBytes = 2 + 2 + 2 + 32 + 8 + 8 + 104

    public init(keyID: [UInt8], secretKey: SecureBytes) {
        self.keyID = keyID
        self.secretKey = secretKey
    }

    /// A fresh key pair.
    public static func generate() throws(MinisignError) -> MinisignSecretKey {
        do {
            let pair = try Ed25519.keyPair()
            return MinisignSecretKey(keyID: try Sodium.randomBytes(Minisign.keyIDBytes), secretKey: pair.secretKey)
        } catch {
            throw MinisignError("cannot make a key pair: \(error)")
        }
    }

    public var publicKey: MinisignPublicKey {
        MinisignPublicKey(keyID: keyID, key: secretKey.withUnsafeBytes { Array($0[32..<64]) })
    }

    /// Reads a secret key file; `password` is needed when it is encrypted (minisign's default).
    public init(text: String, password: [UInt8]?, what: String = "the secret key") throws(MinisignError) {
        let (_, payload) = try Minisign.commentAndPayload(Minisign.lines(text), at: 0, prefix: Minisign.untrustedPrefix,
                                                          expectedBytes: Self.payloadBytes, what: what)
        guard payload[0..<2].elementsEqual("Ed".utf8) else { throw MinisignError("\(what) is not an Ed25519 minisign key") }
        guard payload[4..<6].elementsEqual("B2".utf8) else { throw MinisignError("\(what) uses an unknown checksum algorithm") }
        var inner = Array(payload[54..<158])
        defer { Sodium.wipe(&inner) }
        if payload[2..<4].elementsEqual("Sc".utf8) {
            guard let password else { throw MinisignError("\(what) is encrypted: a password is needed") }
            let salt = Array(payload[6..<38])
            let ops = payload[38..<46].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let mem = payload[46..<54].reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard mem <= UInt64(Int.max) else { throw MinisignError("\(what) asks for an impossible scrypt memory limit") }
            let stream: SecureBytes
            do {
                stream = try Scrypt.derive(password: password, salt: salt, opsLimit: ops, memLimit: Int(mem), length: inner.count)
            } catch {
                throw MinisignError("\(what): \(error)")
            }
            stream.withUnsafeBytes { s in for i in inner.indices { inner[i] ^= s[i] } }
        } else if !payload[2..<4].elementsEqual([0, 0]) {
            throw MinisignError("\(what) uses an unknown key derivation algorithm")
        }
        let keyID = Array(inner[0..<8])
        var secret = Array(inner[8..<72])
        defer { Sodium.wipe(&secret) }
        let checksum = Array(inner[72..<104])
        let encrypted = payload[2..<4].elementsEqual("Sc".utf8)
        // minisign 0.11 leaves the checksum of an unencrypted (-W) key at zero; any other is checked.
        if encrypted || checksum.contains(where: { $0 != 0 }) {
            guard Sodium.constantTimeEqual(try Self.checksum(keyID: keyID, secret: secret), checksum) else {
                throw MinisignError(encrypted ? "wrong password for \(what)" : "\(what) is damaged (checksum mismatch)")
            }
        }
        do {
            secretKey = try SecureBytes(copying: secret)
            // Whatever the checksum said: the public half stored in the key must be the one its seed makes.
            let seed = try SecureBytes(copying: Array(secret[0..<32]))
            guard try Ed25519.keyPair(seed: seed).publicKey == Array(secret[32..<64]) else {
                throw MinisignError("\(what) is damaged (its public half does not match its seed)")
            }
        } catch let error as MinisignError {
            throw error
        } catch {
            throw MinisignError("\(what): \(error)")
        }
        self.keyID = keyID
    }

    /// BLAKE2b-256 over "Ed" | key id | secret key, as minisign's seckey_compute_chk.
    static func checksum(keyID: [UInt8], secret: [UInt8]) throws(MinisignError) -> [UInt8] {
        do {
            return try BLAKE2b.hash(Array("Ed".utf8) + keyID + secret, byteCount: 32)
        } catch {
            throw MinisignError("\(error)")
        }
    }

    /// The key file's text: encrypted under `password` with minisign's default scrypt limits, or unencrypted
    /// (as `minisign -W`) when `password` is nil.
    public func text(password: [UInt8]?, comment: String = "minisign encrypted secret key",
                     opsLimit: UInt64 = Scrypt.sensitiveOpsLimit, memLimit: Int = Scrypt.sensitiveMemLimit) throws(MinisignError) -> String {
        var secret = secretKey.withUnsafeBytes { Array($0) }
        defer { Sodium.wipe(&secret) }
        var inner = keyID + secret + (try Self.checksum(keyID: keyID, secret: secret))
        defer { Sodium.wipe(&inner) }
        var salt = [UInt8](repeating: 0, count: 32)
        var kdf: [UInt8] = [0, 0]
        var ops: UInt64 = 0, mem: UInt64 = 0
        if let password {
            do {
                salt = try Sodium.randomBytes(32)
                let stream = try Scrypt.derive(password: password, salt: salt, opsLimit: opsLimit, memLimit: memLimit, length: inner.count)
                stream.withUnsafeBytes { s in for i in inner.indices { inner[i] ^= s[i] } }
            } catch {
                throw MinisignError("cannot encrypt the secret key: \(error)")
            }
            kdf = Array("Sc".utf8)
            ops = opsLimit
            mem = UInt64(memLimit)
        }
        func le(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
        let payload = Array("Ed".utf8) + kdf + Array("B2".utf8) + salt + le(ops) + le(mem) + inner
        return Minisign.untrustedPrefix + comment + "\n" + Minisign.base64(payload) + "\n"
    }
}

/// A `.minisig` file: the signature line and the trusted comment with its global signature.
public struct MinisignSignature: Sendable, Equatable {
    public enum Algorithm: Sendable, Equatable {
        /// "ED": the Ed25519 signature of BLAKE2b-512(message); minisign's default since 0.8.
        case prehashed
        /// "Ed": the Ed25519 signature of the message itself.
        case legacy
    }

    public let algorithm: Algorithm
    public let keyID: [UInt8]
    public let signature: [UInt8]
    public let untrustedComment: String
    public let trustedComment: String
    public let globalSignature: [UInt8]

    public init(text: String, what: String = "the signature") throws(MinisignError) {
        let lines = Minisign.lines(text)
        let (untrusted, payload) = try Minisign.commentAndPayload(lines, at: 0, prefix: Minisign.untrustedPrefix, expectedBytes: 74, what: what)
        switch (payload[0], payload[1]) {
        case (UInt8(ascii: "E"), UInt8(ascii: "D")): algorithm = .prehashed
        case (UInt8(ascii: "E"), UInt8(ascii: "d")): algorithm = .legacy
        default: throw MinisignError("\(what) uses an unknown signature algorithm \(Array(payload[0..<2]))")
        }
        keyID = Array(payload[2..<10])
        signature = Array(payload[10..<74])
        let (trusted, global) = try Minisign.commentAndPayload(lines, at: 2, prefix: Minisign.trustedPrefix, expectedBytes: 64, what: what)
        guard trusted.utf8.count <= Minisign.maxTrustedCommentBytes else {
            throw MinisignError("\(what): the trusted comment is longer than \(Minisign.maxTrustedCommentBytes) bytes")
        }
        untrustedComment = untrusted
        trustedComment = trusted
        globalSignature = global
    }

    /// Checks, in order: the key id is the key's, the signature is the key's over the message (or its BLAKE2b-512
    /// digest), and the trusted comment is signed too. `messageDigest` is BLAKE2b-512(message), for a prehashed
    /// signature; `message` the bytes themselves, needed for a legacy one.
    public func verify(messageDigest: [UInt8], message: [UInt8]? = nil, publicKey: MinisignPublicKey) throws(MinisignError) {
        guard keyID == publicKey.keyID else {
            throw MinisignError("signed by key \(Minisign.keyIDText(keyID)), not by the trusted key \(Minisign.keyIDText(publicKey.keyID))")
        }
        let signed: [UInt8]
        switch algorithm {
        case .prehashed:
            signed = messageDigest
        case .legacy:
            guard let message else { throw MinisignError("a legacy (unhashed) signature needs the whole message to verify") }
            signed = message
        }
        guard Ed25519.verify(signature, of: signed, publicKey: publicKey.key) else {
            throw MinisignError("the signature does not match the content (it was altered, or signed by another key)")
        }
        guard Ed25519.verify(globalSignature, of: signature + Array(trustedComment.utf8), publicKey: publicKey.key) else {
            throw MinisignError("the trusted comment's signature does not match (the comment was altered)")
        }
    }

    /// Verifies a message held in memory (prehashed or legacy).
    public func verify(_ message: [UInt8], publicKey: MinisignPublicKey) throws(MinisignError) {
        let digest: [UInt8]
        do {
            digest = try BLAKE2b.hash(message)
        } catch {
            throw MinisignError("\(error)")
        }
        try verify(messageDigest: digest, message: message, publicKey: publicKey)
    }

    /// A prehashed signature file of `message` as `minisign -S` writes it.
    public static func sign(_ message: [UInt8], with key: MinisignSecretKey, trustedComment: String,
                            untrustedComment: String = "signature from minisign secret key") throws(MinisignError) -> String {
        guard !trustedComment.contains("\n"), trustedComment.utf8.count <= Minisign.maxTrustedCommentBytes else {
            throw MinisignError("a trusted comment is one line of at most \(Minisign.maxTrustedCommentBytes) bytes")
        }
        do {
            let signature = try Ed25519.sign(try BLAKE2b.hash(message), secretKey: key.secretKey)
            let global = try Ed25519.sign(signature + Array(trustedComment.utf8), secretKey: key.secretKey)
            return Minisign.untrustedPrefix + untrustedComment + "\n" + Minisign.base64(Array("ED".utf8) + key.keyID + signature) + "\n"
                + Minisign.trustedPrefix + trustedComment + "\n" + Minisign.base64(global) + "\n"
        } catch {
            throw MinisignError("cannot sign: \(error)")
        }
    }
}
