// What the store holds: for each model (a bundle name), its installed versions with the signed bundle.json and
// signatures they came with, which one is active, and the order versions were activated in (for rollback). The
// catalog is one document, sealed like every other store file and replaced atomically, so a change to the store
// is a single rename.
import Bundles
import FoundationEssentials
import JSON

public struct VersionRecord: Sendable, Equatable, Encodable {
    public enum Status: String, Sendable, Equatable {
        /// Verified and stored; may be activated.
        case ready
        /// Failed a check (smoke test, load, verification at start); never activated again unless reinstalled.
        case failed
    }

    public var model: String
    public var version: SemanticVersion
    /// The exact signed bytes, kept so the version can be verified again (at start, or by a later audit).
    public var bundleJSON: [UInt8]
    public var signatures: [[UInt8]]
    /// Key ids that signed it when it was installed.
    public var signedBy: [String]
    /// The stored model blob's name (a keyed digest: the store's file names reveal nothing).
    public var blob: String
    public var modelSHA256: String
    public var modelSize: Int64
    public var installedAt: String
    public var installedBy: String
    public var activatedAt: String?
    public var activatedBy: String?
    public var status: Status
    public var failure: String?

    enum CodingKeys: String, CodingKey {
        case model, version, signatures, blob, status, failure
        case bundleJSON = "bundle_json"
        case signedBy = "signed_by"
        case modelSHA256 = "model_sha256"
        case modelSize = "model_size"
        case installedAt = "installed_at"
        case installedBy = "installed_by"
        case activatedAt = "activated_at"
        case activatedBy = "activated_by"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(model, forKey: .model)
        try c.encode(version.description, forKey: .version)
        try c.encode(Data(bundleJSON).base64EncodedString(), forKey: .bundleJSON)
        try c.encode(signatures.map { Data($0).base64EncodedString() }, forKey: .signatures)
        try c.encode(signedBy, forKey: .signedBy)
        try c.encode(blob, forKey: .blob)
        try c.encode(modelSHA256, forKey: .modelSHA256)
        try c.encode(modelSize, forKey: .modelSize)
        try c.encode(installedAt, forKey: .installedAt)
        try c.encode(installedBy, forKey: .installedBy)
        try c.encodeIfPresent(activatedAt, forKey: .activatedAt)
        try c.encodeIfPresent(activatedBy, forKey: .activatedBy)
        try c.encode(status.rawValue, forKey: .status)
        try c.encodeIfPresent(failure, forKey: .failure)
    }

    init(_ reader: JSONObjectReader) throws(JSONFieldError) {
        model = try reader.required("model", reader.string)
        let versionText = try reader.required("version", reader.string)
        guard let version = SemanticVersion(versionText) else { throw JSONFieldError("bad version \(versionText.prefix(40))") }
        self.version = version
        func base64(_ text: String) throws(JSONFieldError) -> [UInt8] {
            guard let data = Data(base64Encoded: text) else { throw JSONFieldError("a field of \(reader.path) is not base64") }
            return [UInt8](data)
        }
        bundleJSON = try base64(try reader.required("bundle_json", reader.string))
        var signatures: [[UInt8]] = []
        for value in try reader.required("signatures", reader.array) {
            guard case .string(let text) = value else { throw JSONFieldError("signatures must be strings") }
            signatures.append(try base64(text))
        }
        self.signatures = signatures
        signedBy = try reader.required("signed_by", reader.array).compactMap { if case .string(let s) = $0 { return s } else { return nil } }
        blob = try reader.required("blob", reader.string)
        guard blob.utf8.count == 64, blob.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else {
            throw JSONFieldError("blob name \(blob.prefix(80)) is not 64 hex digits")
        }
        modelSHA256 = try reader.required("model_sha256", reader.string)
        guard let size = try reader.int("model_size"), size >= 0 else { throw JSONFieldError("model_size must be a non-negative integer") }
        modelSize = Int64(size)
        installedAt = try reader.required("installed_at", reader.string)
        installedBy = try reader.required("installed_by", reader.string)
        activatedAt = try reader.string("activated_at")
        activatedBy = try reader.string("activated_by")
        let statusText = try reader.required("status", reader.string)
        guard let status = Status(rawValue: statusText) else { throw JSONFieldError("unknown status \(statusText.prefix(40))") }
        self.status = status
        failure = try reader.string("failure")
    }

    public init(model: String, version: SemanticVersion, bundleJSON: [UInt8], signatures: [[UInt8]], signedBy: [String], blob: String,
                modelSHA256: String, modelSize: Int64, installedAt: String, installedBy: String) {
        self.model = model
        self.version = version
        self.bundleJSON = bundleJSON
        self.signatures = signatures
        self.signedBy = signedBy
        self.blob = blob
        self.modelSHA256 = modelSHA256
        self.modelSize = modelSize
        self.installedAt = installedAt
        self.installedBy = installedBy
        status = .ready
    }

    /// The parsed bundle.json (it parsed when the version was installed).
    public var manifest: BundleManifest? { try? BundleManifest(parsing: bundleJSON) }
}

public struct StoreCatalog: Sendable, Equatable, Encodable {
    public struct Model: Sendable, Equatable, Encodable {
        public var active: SemanticVersion?
        /// Versions in the order they were activated, oldest first; the last is the active one.
        public var history: [SemanticVersion] = []
        public var versions: [VersionRecord] = []

        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encodeIfPresent(active?.description, forKey: .active)
            try c.encode(history.map(\.description), forKey: .history)
            try c.encode(versions, forKey: .versions)
        }

        enum CodingKeys: String, CodingKey { case active, history, versions }

        public func record(_ version: SemanticVersion) -> VersionRecord? { versions.first { $0.version == version } }
    }

    /// Increases with every change.
    public var generation: Int = 0
    public var models: [String: Model] = [:]
    /// The highest release number accepted per channel (a lower one is a replay).
    public var releases: [String: Int64] = [:]

    public init() {}

    public var bytes: [UInt8] { Array(JSONWriter.encode(self).utf8) }

    public static let maxBytes = 64 << 20

    public init(parsing bytes: [UInt8]) throws(JSONFieldError) {
        let reader = try JSONObjectReader(parsing: bytes)
        generation = try reader.int("generation") ?? 0
        if let releases = try reader.object("releases") {
            for (channel, _) in releases.members {
                guard let number = try releases.int(channel), number >= 1 else { throw JSONFieldError("releases.\(channel) must be a positive integer") }
                self.releases[channel] = Int64(number)
            }
        }
        guard let models = try reader.object("models") else { return }
        for (name, value) in models.members {
            let entry = try JSONObjectReader(value, path: "models.\(name)")
            var model = Model()
            if let active = try entry.string("active") {
                guard let version = SemanticVersion(active) else { throw JSONFieldError("models.\(name).active is not a version") }
                model.active = version
            }
            for value in try entry.array("history") ?? [] {
                guard case .string(let text) = value, let version = SemanticVersion(text) else { throw JSONFieldError("models.\(name).history holds a bad version") }
                model.history.append(version)
            }
            for (index, value) in (try entry.array("versions") ?? []).enumerated() {
                model.versions.append(try VersionRecord(try JSONObjectReader(value, path: "models.\(name).versions.\(index)")))
            }
            if let active = model.active, model.record(active) == nil {
                throw JSONFieldError("models.\(name).active names \(active), which is not installed")
            }
            self.models[name] = model
        }
    }
}
