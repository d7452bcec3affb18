// `bundle.json`: what a bundle is, the one document its signatures sign. Everything else in a bundle is trusted
// only through the digests listed here.
import JSON
import Platform

public struct BundleManifest: Sendable, Equatable, Encodable {
    public static let schemaName = "outpost.bundle.v1"
    public static let maxBytes = 256 * 1024

    public struct Model: Sendable, Equatable, Encodable {
        /// The GGUF file's name as it was given (a base name), for people and for `outpost bundle extract`-style tools.
        public var file: String
        public var size: Int64
        /// Lower-case hex SHA-256 of the GGUF file.
        public var sha256: String
        /// `general.architecture` of the GGUF file.
        public var architecture: String

        public init(file: String, size: Int64, sha256: String, architecture: String) {
            self.file = file
            self.size = size
            self.sha256 = sha256
            self.architecture = architecture
        }
    }

    /// Defaults the agent serves the model with unless the site's configuration says otherwise.
    public struct Serving: Sendable, Equatable, Encodable {
        public var context: Int?
        /// A chat template name (`chatml`, `gemma`, `llama3`, ...) that overrides the one the GGUF file carries.
        public var chatTemplate: String?

        public init(context: Int? = nil, chatTemplate: String? = nil) {
            self.context = context
            self.chatTemplate = chatTemplate
        }

        enum CodingKeys: String, CodingKey {
            case context
            case chatTemplate = "chat_template"
        }
    }

    /// A prompt and the greedy text this build of Outpost produced for it when the bundle was made: a site runs it
    /// before activating the bundle and refuses a model that answers otherwise.
    public struct SmokeTest: Sendable, Equatable, Encodable {
        public var prompt: String
        public var maxTokens: Int
        public var expected: String
        /// The Outpost version that produced `expected`.
        public var producedBy: String

        public init(prompt: String, maxTokens: Int, expected: String, producedBy: String) {
            self.prompt = prompt
            self.maxTokens = maxTokens
            self.expected = expected
            self.producedBy = producedBy
        }

        enum CodingKeys: String, CodingKey {
            case prompt, expected
            case maxTokens = "max_tokens"
            case producedBy = "produced_by"
        }
    }

    public var schema = BundleManifest.schemaName
    public var name: String
    public var version: SemanticVersion
    /// RFC 3339 UTC, whole seconds.
    public var created: String
    public var expires: String?
    public var minAgentVersion: SemanticVersion
    public var model: Model
    public var serving: Serving
    public var smokeTest: SmokeTest

    public init(name: String, version: SemanticVersion, created: String, expires: String?, minAgentVersion: SemanticVersion,
                model: Model, serving: Serving, smokeTest: SmokeTest) {
        self.name = name
        self.version = version
        self.created = created
        self.expires = expires
        self.minAgentVersion = minAgentVersion
        self.model = model
        self.serving = serving
        self.smokeTest = smokeTest
    }

    enum CodingKeys: String, CodingKey {
        case schema, name, version, created, expires, model, serving
        case minAgentVersion = "min_agent_version"
        case smokeTest = "smoke_test"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schema, forKey: .schema)
        try container.encode(name, forKey: .name)
        try container.encode(version.description, forKey: .version)
        try container.encode(created, forKey: .created)
        try container.encodeIfPresent(expires, forKey: .expires)
        try container.encode(minAgentVersion.description, forKey: .minAgentVersion)
        try container.encode(model, forKey: .model)
        try container.encode(serving, forKey: .serving)
        try container.encode(smokeTest, forKey: .smokeTest)
    }

    /// The exact bytes that go into the bundle and get signed: indented JSON, keys sorted, a final newline.
    public var bytes: [UInt8] { Array((JSONWriter(pretty: true).string(self) + "\n").utf8) }

    /// Seconds since the epoch of `expires`, when there is one.
    public var expiresAt: Int64? { expires.flatMap(UTCTimestamp.parse) }

    // MARK: - Reading

    /// Parses `bytes` strictly: every field checked, unknown fields refused (a manifest's meaning must not depend on
    /// which agent reads it; a newer format says so with `min_agent_version`).
    public init(parsing bytes: [UInt8]) throws(JSONFieldError) {
        guard bytes.count <= Self.maxBytes else { throw JSONFieldError("bundle.json is \(bytes.count) bytes, more than \(Self.maxBytes)") }
        let reader = try JSONObjectReader(parsing: bytes)
        try reader.refuseUnknown(["schema", "name", "version", "created", "expires", "min_agent_version", "model", "serving", "smoke_test"])
        let schema = try reader.required("schema", reader.string)
        guard schema == Self.schemaName else { throw JSONFieldError("schema is '\(schema.prefix(80))', expected '\(Self.schemaName)'") }
        name = try reader.required("name", reader.string)
        try Self.checkName(name)
        version = try Self.version(reader, "version")
        created = try Self.timestamp(reader, "created")
        if reader.value("expires") != nil {
            let expires = try Self.timestamp(reader, "expires")
            guard UTCTimestamp.parse(expires)! > UTCTimestamp.parse(created)! else {
                throw JSONFieldError("field 'expires' (\(expires)) is not after 'created' (\(created))")
            }
            self.expires = expires
        }
        minAgentVersion = try Self.version(reader, "min_agent_version")

        let model = try reader.required("model", reader.object)
        try model.refuseUnknown(["file", "size", "sha256", "architecture"])
        let file = try model.required("file", model.string)
        try Self.checkFileName(file)
        guard let size = try model.int("size"), size > 0 else { throw JSONFieldError("field 'model.size' must be a positive integer") }
        let sha = try model.required("sha256", model.string)
        guard Digest("sha256:" + sha) != nil else { throw JSONFieldError("field 'model.sha256' must be 64 lower-case hex digits") }
        let architecture = try model.required("architecture", model.string)
        guard (1...64).contains(architecture.utf8.count) else { throw JSONFieldError("field 'model.architecture' must be 1 to 64 bytes") }
        self.model = Model(file: file, size: Int64(size), sha256: sha, architecture: architecture)

        let serving = try reader.required("serving", reader.object)
        try serving.refuseUnknown(["context", "chat_template"])
        let context = try serving.int("context")
        if let context, !(16...(1 << 20)).contains(context) { throw JSONFieldError("field 'serving.context' must be from 16 to 1048576") }
        let template = try serving.string("chat_template")
        if let template, !(1...64).contains(template.utf8.count) { throw JSONFieldError("field 'serving.chat_template' must be a template name of 1 to 64 bytes") }
        self.serving = Serving(context: context, chatTemplate: template)

        let smoke = try reader.required("smoke_test", reader.object)
        try smoke.refuseUnknown(["prompt", "max_tokens", "expected", "produced_by"])
        let prompt = try smoke.required("prompt", smoke.string)
        guard !prompt.isEmpty, prompt.utf8.count <= 4096 else { throw JSONFieldError("field 'smoke_test.prompt' must be 1 to 4096 bytes") }
        guard let maxTokens = try smoke.int("max_tokens"), (1...SmokeTestLimits.maxTokens).contains(maxTokens) else {
            throw JSONFieldError("field 'smoke_test.max_tokens' must be from 1 to \(SmokeTestLimits.maxTokens)")
        }
        let expected = try smoke.required("expected", smoke.string)
        guard expected.utf8.count <= 64 * 1024 else { throw JSONFieldError("field 'smoke_test.expected' is longer than 64 KiB") }
        let producedBy = try smoke.required("produced_by", smoke.string)
        guard producedBy.utf8.count <= 64 else { throw JSONFieldError("field 'smoke_test.produced_by' is longer than 64 bytes") }
        smokeTest = SmokeTest(prompt: prompt, maxTokens: maxTokens, expected: expected, producedBy: producedBy)
    }

    /// The `min_agent_version` of a document that may not parse as this agent's format, to tell "made for a newer
    /// agent" apart from "damaged".
    public static func declaredMinimumAgentVersion(_ bytes: [UInt8]) -> SemanticVersion? {
        guard bytes.count <= maxBytes, let value = try? JSONParser.parse(bytes), case .string(let text)? = value["min_agent_version"] else { return nil }
        return SemanticVersion(text)
    }

    static func version(_ reader: JSONObjectReader, _ key: String) throws(JSONFieldError) -> SemanticVersion {
        let text = try reader.required(key, reader.string)
        guard let version = SemanticVersion(text) else { throw JSONFieldError("field '\(key)' must be MAJOR.MINOR.PATCH, got '\(text.prefix(40))'") }
        return version
    }

    static func timestamp(_ reader: JSONObjectReader, _ key: String) throws(JSONFieldError) -> String {
        let text = try reader.required(key, reader.string)
        guard text.utf8.count <= 40, UTCTimestamp.parse(text) != nil else {
            throw JSONFieldError("field '\(key)' must be a UTC time such as 2026-12-08T10:00:00Z, got '\(text.prefix(40))'")
        }
        return text
    }

    /// Bundle names: lower-case letters, digits and `.`, `_`, `-` inside, as OCI repository path components allow;
    /// at most 128 bytes.
    public static func checkName(_ name: String) throws(JSONFieldError) {
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        guard (1...128).contains(bytes.count), alnum(bytes.first!), alnum(bytes.last!),
              bytes.allSatisfy({ alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }),
              !name.contains("..") else {
            throw JSONFieldError("bundle name '\(name.prefix(80))' must be 1 to 128 lower-case letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
        }
    }

    /// A file's base name: no slash, no NUL or control characters, not "." or "..", at most 255 bytes.
    public static func checkFileName(_ name: String) throws(JSONFieldError) {
        let bytes = Array(name.utf8)
        guard (1...255).contains(bytes.count), name != ".", name != "..", bytes.allSatisfy({ $0 >= 0x20 && $0 != 0x7f && $0 != UInt8(ascii: "/") }) else {
            throw JSONFieldError("model file name '\(name.prefix(80))' must be a plain file name (no '/', no control characters)")
        }
    }
}

public enum SmokeTestLimits {
    public static let maxTokens = 256
    public static let defaultMaxTokens = 16
    public static let defaultPrompt = "The capital of France is"
}
