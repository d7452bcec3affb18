// The store key: 32 random bytes that encrypt everything in the store. Under systemd it arrives as the encrypted
// credential `outpost-store.key` (`$CREDENTIALS_DIRECTORY/outpost-store.key`); elsewhere from a key file. The file
// holds the 32 bytes raw (`head -c 32 /dev/urandom`) or as 64 hex digits (one trailing newline allowed); anything
// else is refused. The key is kept in guarded memory (locked, not in core dumps, wiped when freed).
import Platform
import Sodium

public enum StoreKey {
    public static let credentialName = "outpost-store.key"
    public static let byteCount = 32

    /// Where the key comes from, in order: `keyFile` (`--store-key-file` or `[store] key_file`), else the systemd
    /// credential. Nil when neither is there (the store stays closed); an error when one is there but unusable.
    public static func locate(keyFile: String?, credentialsDirectory: String?) -> String? {
        if let keyFile { return keyFile }
        if let directory = credentialsDirectory, !directory.isEmpty { return directory + "/" + credentialName }
        return nil
    }

    /// How to provide a key, for the error shown when there is none.
    public static let howToProvide = "the store needs a key: under systemd the credential \(credentialName) (the package creates it with "
        + "systemd-creds), otherwise --store-key-file FILE or [store] key_file (32 random bytes: head -c 32 /dev/urandom > FILE)"

    public static func load(_ path: String) throws(StoreError) -> SecureBytes {
        var bytes: [UInt8]
        do {
            let fd = try FileDescriptor.open(path, .readOnly)
            defer { fd.close() }
            bytes = try fd.readAll(limit: 256)
        } catch {
            throw StoreError("cannot read the store key \(path): \(error)")
        }
        defer { Sodium.wipe(&bytes) }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws(StoreError) -> SecureBytes {
        var raw: [UInt8]
        if bytes.count == byteCount {
            raw = bytes
        } else {
            var text = bytes
            if text.last == UInt8(ascii: "\n") { text.removeLast() }
            guard text.count == 2 * byteCount, let decoded = hexDecode(text) else {
                throw StoreError("the store key \(path) must hold exactly \(byteCount) bytes, raw or as \(2 * byteCount) hex digits; it holds \(bytes.count) bytes")
            }
            raw = decoded
        }
        defer { Sodium.wipe(&raw) }
        guard raw.contains(where: { $0 != 0 }) else { throw StoreError("the store key \(path) is all zeros; make one with head -c 32 /dev/urandom") }
        do {
            return try SecureBytes(copying: raw)
        } catch {
            throw StoreError("cannot keep the store key in locked memory: \(error)")
        }
    }

    static func hexDecode(_ text: [UInt8]) -> [UInt8]? {
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(text.count / 2)
        var i = 0
        while i + 1 < text.count {
            guard let high = nibble(text[i]), let low = nibble(text[i + 1]) else { return nil }
            out.append(high << 4 | low)
            i += 2
        }
        return out
    }
}
