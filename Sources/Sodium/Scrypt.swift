// scrypt (crypto_pwhash_scryptsalsa208sha256): the key derivation minisign uses to encrypt secret keys.
import CSodium

public enum Scrypt {
    public static let saltBytes = Int(crypto_pwhash_scryptsalsa208sha256_SALTBYTES)
    /// minisign's defaults for a new key ("sensitive" in libsodium's terms).
    public static let sensitiveOpsLimit = UInt64(crypto_pwhash_scryptsalsa208sha256_OPSLIMIT_SENSITIVE)
    public static let sensitiveMemLimit = Int(crypto_pwhash_scryptsalsa208sha256_MEMLIMIT_SENSITIVE)

    /// `length` bytes derived from `password` and a 32-byte `salt` with libsodium's cost parameters.
    public static func derive(password: [UInt8], salt: [UInt8], opsLimit: UInt64, memLimit: Int, length: Int) throws(SodiumError) -> SecureBytes {
        try Sodium.start()
        guard salt.count == saltBytes else { throw SodiumError("a scrypt salt is \(saltBytes) bytes, not \(salt.count)") }
        // minisign writes its limits into the key file: bound them, so a hostile file cannot ask for terabytes.
        guard opsLimit <= 1 << 34, memLimit >= 0, memLimit <= 1 << 31 else {
            throw SodiumError("scrypt limits out of range (ops \(opsLimit), memory \(memLimit) bytes)")
        }
        let out = try SecureBytes(count: length)
        // One byte more than the password, so that an empty one still has an address to pass.
        var padded = password + [0]
        defer { Sodium.wipe(&padded) }
        let rc = out.withUnsafeMutableBytes { buffer in
            padded.withUnsafeBytes { pw in
                crypto_pwhash_scryptsalsa208sha256(buffer.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(length),
                                                   pw.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(password.count),
                                                   salt, opsLimit, memLimit)
            }
        }
        guard rc == 0 else { throw SodiumError("scrypt failed (out of memory for \(memLimit) bytes?)") }
        return out
    }

    /// scrypt with explicit N, r, p (RFC 7914's parameters), for known-answer tests and interoperability.
    public static func derive(password: [UInt8], salt: [UInt8], n: UInt64, r: UInt32, p: UInt32, length: Int) throws(SodiumError) -> [UInt8] {
        try Sodium.start()
        var out = [UInt8](repeating: 0, count: length)
        let rc = crypto_pwhash_scryptsalsa208sha256_ll(password, password.count, salt, salt.count, n, r, p, &out, length)
        guard rc == 0 else { throw SodiumError("scrypt failed (N \(n), r \(r), p \(p))") }
        return out
    }
}
