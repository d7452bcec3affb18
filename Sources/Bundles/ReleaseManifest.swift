// `release.json`: what a channel (stable, canary, ...) says every site following it should run. A release is
// its own OCI artifact, tagged with the channel's name: config = release.json, layers = minisign signatures of it.
// It names each bundle by the digest of its OCI manifest (so no other bundle can be swapped in), carries a number
// that only grows (a site refuses a lower one: no rollback to an old, vulnerable release) and an expiry (a site
// refuses a release past it: no freezing a site on old content by replaying).
import JSON
import Platform

public struct ReleaseManifest: Sendable, Equatable, Encodable {
    public static let schemaName = "outpost.release.v1"
    public static let maxBytes = 256 * 1024
    public static let maxBundles = 256

    public struct Entry: Sendable, Equatable, Encodable {
        public var version: SemanticVersion
        /// The bundle's OCI manifest digest in the release's repository.
        public var manifest: Digest

        public init(version: SemanticVersion, manifest: Digest) {
            self.version = version
            self.manifest = manifest
        }

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(version.description, forKey: .version)
            try c.encode(manifest.description, forKey: .manifest)
        }

        enum CodingKeys: String, CodingKey { case version, manifest }
    }

    public var schema = ReleaseManifest.schemaName
    public var channel: String
    public var number: Int64
    public var created: String
    public var expires: String
    /// Bundle name → the version to run.
    public var bundles: [String: Entry]

    public init(channel: String, number: Int64, created: String, expires: String, bundles: [String: Entry]) {
        self.channel = channel
        self.number = number
        self.created = created
        self.expires = expires
        self.bundles = bundles
    }

    public var bytes: [UInt8] { Array((JSONWriter(pretty: true).string(self) + "\n").utf8) }
    public var expiresAt: Int64 { UTCTimestamp.parse(expires) ?? 0 }

    public init(parsing bytes: [UInt8]) throws(JSONFieldError) {
        guard bytes.count <= Self.maxBytes else { throw JSONFieldError("release.json is \(bytes.count) bytes, more than \(Self.maxBytes)") }
        let reader = try JSONObjectReader(parsing: bytes)
        try reader.refuseUnknown(["schema", "channel", "number", "created", "expires", "bundles"])
        let schema = try reader.required("schema", reader.string)
        guard schema == Self.schemaName else { throw JSONFieldError("schema is '\(schema.prefix(80))', expected '\(Self.schemaName)'") }
        channel = try reader.required("channel", reader.string)
        guard Self.isValidChannel(channel) else { throw JSONFieldError("channel '\(channel.prefix(80))' is not a valid channel name") }
        guard let number = try reader.int("number"), number >= 1 else { throw JSONFieldError("field 'number' must be a positive integer") }
        self.number = Int64(number)
        created = try BundleManifest.timestamp(reader, "created")
        expires = try BundleManifest.timestamp(reader, "expires")
        guard UTCTimestamp.parse(expires)! > UTCTimestamp.parse(created)! else {
            throw JSONFieldError("field 'expires' (\(expires)) is not after 'created' (\(created))")
        }
        let list = try reader.required("bundles", reader.object)
        guard list.members.count <= Self.maxBundles else { throw JSONFieldError("a release names at most \(Self.maxBundles) bundles") }
        var bundles: [String: Entry] = [:]
        for (name, value) in list.members {
            try BundleManifest.checkName(name)
            let entry = try JSONObjectReader(value, path: "bundles.\(name)")
            try entry.refuseUnknown(["version", "manifest"])
            let version = try BundleManifest.version(entry, "version")
            let text = try entry.required("manifest", entry.string)
            guard let digest = Digest(text) else { throw JSONFieldError("field 'bundles.\(name).manifest' is not a sha256 digest") }
            bundles[name] = Entry(version: version, manifest: digest)
        }
        self.bundles = bundles
    }

    /// Channel names are OCI tags: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}.
    public static func isValidChannel(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func word(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == UInt8(ascii: "_") }
        return (1...128).contains(bytes.count) && word(bytes[0]) && bytes.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}

extension MediaType {
    public static let release = "application/vnd.outpost.release.v1+json"
    public static let releaseManifest = "application/vnd.outpost.release.manifest.v1+json"
    public static let releaseSignature = "application/vnd.outpost.release.signature.v1+minisign"
}

/// Why a release was refused, by kind (counted and alerted by the agent).
public struct ReleaseError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case signature, manifest, channel, rollback, expired
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

extension BundleVerifier {
    /// A release's checks, in order: signatures (as a bundle's), release.json, the channel followed, the number
    /// against the highest accepted (`atLeast`: equal is the same release seen again), expiry.
    public func verifyRelease(document: [UInt8], signatures: [[UInt8]], channel: String, atLeast: Int64) throws(ReleaseError) -> (ReleaseManifest, [String]) {
        let signers: [String]
        do {
            signers = try verifySigned(document: document, signatures: signatures, what: "the release")
        } catch {
            throw ReleaseError(.signature, "release for channel \(channel): \(error)")
        }
        let release: ReleaseManifest
        do {
            release = try ReleaseManifest(parsing: document)
        } catch {
            throw ReleaseError(.manifest, "release.json: \(error.message)")
        }
        guard release.channel == channel else {
            throw ReleaseError(.channel, "the release is for channel \(release.channel), not \(channel)")
        }
        guard release.number >= atLeast else {
            throw ReleaseError(.rollback, "release \(release.number) of \(channel) is older than release \(atLeast), already accepted (a replay?)")
        }
        guard now < release.expiresAt else {
            throw ReleaseError(.expired, "release \(release.number) of \(channel) expired at \(release.expires) (a stale or frozen channel?)")
        }
        return (release, signers)
    }
}
