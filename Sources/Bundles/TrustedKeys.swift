// The public keys a site trusts to sign bundles: every `*.pub` file of a directory (`/etc/outpost/trusted.d`),
// or one key file.
import Platform

public struct TrustedKeys: Sendable {
    public static let defaultDirectory = "/etc/outpost/trusted.d"
    public static let maxKeys = 256

    /// Keys by key id.
    public let keys: [[UInt8]: MinisignPublicKey]
    /// Where each key came from, for messages.
    public let sources: [[UInt8]: String]

    public init(_ keys: [(key: MinisignPublicKey, source: String)]) throws(BundleError) {
        var byID: [[UInt8]: MinisignPublicKey] = [:]
        var sources: [[UInt8]: String] = [:]
        for (key, source) in keys {
            if let existing = byID[key.keyID] {
                guard existing == key else {
                    throw BundleError("\(source) and \(sources[key.keyID]!) hold different keys with the same key id \(Minisign.keyIDText(key.keyID))")
                }
                continue
            }
            byID[key.keyID] = key
            sources[key.keyID] = source
        }
        self.keys = byID
        self.sources = sources
    }

    /// Reads `path`: a directory's `*.pub` files, or a single key file.
    public static func load(_ path: String) throws(BundleError) -> TrustedKeys {
        let status: FileStatus?
        do {
            status = try FileSystem.status(path)
        } catch {
            throw BundleError("cannot read the trusted keys at \(path): \(error)")
        }
        guard let status else { throw BundleError("no trusted keys: \(path) does not exist") }
        var files: [String] = []
        if status.kind == .directory {
            do {
                files = try FileSystem.listDirectory(path).filter { $0.hasSuffix(".pub") }.map { path + "/" + $0 }
            } catch {
                throw BundleError("cannot list the trusted keys in \(path): \(error)")
            }
            guard !files.isEmpty else { throw BundleError("no trusted keys: \(path) holds no *.pub file") }
            guard files.count <= maxKeys else { throw BundleError("\(path) holds more than \(maxKeys) keys") }
        } else {
            files = [path]
        }
        var keys: [(MinisignPublicKey, String)] = []
        for file in files {
            let text: String
            do {
                text = try ProcessStats.readSmallFile(file, limit: 4096)
            } catch {
                throw BundleError("cannot read the trusted key \(file): \(error)")
            }
            do {
                keys.append((try MinisignPublicKey(text: text, what: file), file))
            } catch {
                throw BundleError(error.message)
            }
        }
        return try TrustedKeys(keys)
    }

    public var keyIDTexts: [String] { keys.keys.map(Minisign.keyIDText).sorted() }
}
