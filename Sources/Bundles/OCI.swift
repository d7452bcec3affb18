// The parts of the OCI image layout and image manifest a bundle uses (opencontainers/image-spec: image-layout.md,
// manifest.md, image-index.md, descriptor.md), written with fixed key order and read strictly with bounds.
import JSON
import Sodium

public enum MediaType {
    public static let imageIndex = "application/vnd.oci.image.index.v1+json"
    public static let imageManifest = "application/vnd.oci.image.manifest.v1+json"
    public static let bundle = "application/vnd.outpost.bundle.v1+json"
    public static let bundleManifest = "application/vnd.outpost.bundle.manifest.v1+json"
    public static let model = "application/vnd.outpost.model.gguf"
    public static let signature = "application/vnd.outpost.bundle.signature.v1+minisign"
}

/// `sha256:` and 64 lower-case hex digits; the only algorithm bundles use.
public struct Digest: Hashable, Sendable, CustomStringConvertible, Encodable {
    public let hex: String

    public init?(_ text: String) {
        guard text.hasPrefix("sha256:") else { return nil }
        let hex = text.dropFirst(7)
        guard hex.utf8.count == 64, hex.utf8.allSatisfy({ ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }) else { return nil }
        self.hex = String(hex)
    }

    public init(sha256: [UInt8]) {
        hex = sha256.map { byte in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
    }

    /// The digest of bytes held in memory.
    public static func of(_ bytes: [UInt8]) throws(BundleError) -> Digest {
        var hasher = try Digest.hasher()
        hasher.update(bytes)
        return Digest(sha256: hasher.finish())
    }

    /// A SHA-256 hasher (libsodium started).
    static func hasher() throws(BundleError) -> SHA256 {
        do {
            return try SHA256()
        } catch {
            throw BundleError("\(error)")
        }
    }

    public var description: String { "sha256:" + hex }
    /// Where the blob lives in an image layout.
    public var blobPath: String { "blobs/sha256/" + hex }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

/// A content descriptor: what a blob is, its digest and its size.
public struct OCIDescriptor: Sendable, Equatable, Encodable {
    public var mediaType: String
    public var digest: Digest
    public var size: Int64
    public var artifactType: String?
    public var annotations: [String: String]?

    public init(mediaType: String, digest: Digest, size: Int64, artifactType: String? = nil, annotations: [String: String]? = nil) {
        self.mediaType = mediaType
        self.digest = digest
        self.size = size
        self.artifactType = artifactType
        self.annotations = annotations
    }

    static let maxAnnotations = 64
    static let maxStringBytes = 4096

    init(_ value: JSONValue, path: String) throws(JSONFieldError) {
        let reader = try JSONObjectReader(value, path: path)
        mediaType = try reader.required("mediaType", reader.string)
        let digestText = try reader.required("digest", reader.string)
        guard let digest = Digest(digestText) else {
            throw JSONFieldError("field '\(reader.name("digest"))' is not a sha256 digest: \(digestText.prefix(80))")
        }
        self.digest = digest
        guard let size = try reader.int("size"), size >= 0 else {
            throw JSONFieldError("field '\(reader.name("size"))' must be a non-negative integer")
        }
        self.size = Int64(size)
        artifactType = try reader.string("artifactType")
        annotations = try Self.annotations(reader)
        for text in [mediaType, artifactType ?? ""] where text.utf8.count > Self.maxStringBytes {
            throw JSONFieldError("a media type in '\(path)' is longer than \(Self.maxStringBytes) bytes")
        }
    }

    static func annotations(_ reader: JSONObjectReader) throws(JSONFieldError) -> [String: String]? {
        guard let object = try reader.object("annotations") else { return nil }
        guard object.members.count <= maxAnnotations else {
            throw JSONFieldError("'\(object.path)' holds more than \(maxAnnotations) annotations")
        }
        var result: [String: String] = [:]
        for (key, _) in object.members {
            let text = try object.required(key, object.string)
            guard key.utf8.count <= maxStringBytes, text.utf8.count <= maxStringBytes else {
                throw JSONFieldError("annotation '\(key.prefix(80))' is longer than \(maxStringBytes) bytes")
            }
            result[key] = text
        }
        return result
    }
}

/// An OCI image manifest (`schemaVersion` 2) as a bundle uses it: an artifact whose config is `bundle.json`.
public struct OCIManifest: Sendable, Equatable, Encodable {
    public var schemaVersion = 2
    public var mediaType = MediaType.imageManifest
    public var artifactType: String?
    public var config: OCIDescriptor
    public var layers: [OCIDescriptor]
    public var annotations: [String: String]?

    public init(artifactType: String?, config: OCIDescriptor, layers: [OCIDescriptor], annotations: [String: String]? = nil) {
        self.artifactType = artifactType
        self.config = config
        self.layers = layers
        self.annotations = annotations
    }

    public static let maxBytes = 256 * 1024
    public static let maxLayers = 64

    public init(parsing bytes: [UInt8]) throws(JSONFieldError) {
        guard bytes.count <= Self.maxBytes else { throw JSONFieldError("the manifest is \(bytes.count) bytes, more than \(Self.maxBytes)") }
        let reader = try JSONObjectReader(parsing: bytes)
        guard try reader.int("schemaVersion") == 2 else { throw JSONFieldError("the manifest's schemaVersion must be 2") }
        // mediaType is optional in the spec; when present it must say what this is.
        if let type = try reader.string("mediaType"), type != MediaType.imageManifest {
            throw JSONFieldError("the manifest's mediaType is \(type.prefix(100)), expected \(MediaType.imageManifest)")
        }
        artifactType = try reader.string("artifactType")
        guard let configValue = reader.value("config") else { throw JSONFieldError("missing field 'config'") }
        config = try OCIDescriptor(configValue, path: "config")
        let layerValues = try reader.required("layers", reader.array)
        guard layerValues.count <= Self.maxLayers else { throw JSONFieldError("the manifest lists more than \(Self.maxLayers) layers") }
        var layers: [OCIDescriptor] = []
        for (index, value) in layerValues.enumerated() {
            layers.append(try OCIDescriptor(value, path: "layers.\(index)"))
        }
        self.layers = layers
        annotations = try OCIDescriptor.annotations(reader)
    }

    public var bytes: [UInt8] { Array(JSONWriter.encode(self).utf8) }
}

/// `index.json` of an image layout.
public struct OCIIndex: Sendable, Equatable, Encodable {
    public var schemaVersion = 2
    public var mediaType = MediaType.imageIndex
    public var manifests: [OCIDescriptor]

    public init(manifests: [OCIDescriptor]) {
        self.manifests = manifests
    }

    public static let maxBytes = 256 * 1024
    public static let maxManifests = 64

    public init(parsing bytes: [UInt8]) throws(JSONFieldError) {
        guard bytes.count <= Self.maxBytes else { throw JSONFieldError("index.json is \(bytes.count) bytes, more than \(Self.maxBytes)") }
        let reader = try JSONObjectReader(parsing: bytes)
        guard try reader.int("schemaVersion") == 2 else { throw JSONFieldError("index.json's schemaVersion must be 2") }
        if let type = try reader.string("mediaType"), type != MediaType.imageIndex {
            throw JSONFieldError("index.json's mediaType is \(type.prefix(100)), expected \(MediaType.imageIndex)")
        }
        let values = try reader.required("manifests", reader.array)
        guard values.count <= Self.maxManifests else { throw JSONFieldError("index.json lists more than \(Self.maxManifests) manifests") }
        var manifests: [OCIDescriptor] = []
        for (index, value) in values.enumerated() {
            manifests.append(try OCIDescriptor(value, path: "manifests.\(index)"))
        }
        self.manifests = manifests
    }

    public var bytes: [UInt8] { Array(JSONWriter.encode(self).utf8) }
}

public enum OCILayout {
    /// The content of the `oci-layout` file.
    public static let fileBytes = Array(#"{"imageLayoutVersion":"1.0.0"}"#.utf8)

    public static func check(_ bytes: [UInt8]) throws(JSONFieldError) {
        guard bytes.count <= 4096 else { throw JSONFieldError("oci-layout is \(bytes.count) bytes") }
        let reader = try JSONObjectReader(parsing: bytes)
        guard let version = try reader.string("imageLayoutVersion") else { throw JSONFieldError("oci-layout has no imageLayoutVersion") }
        guard version == "1.0.0" else { throw JSONFieldError("oci-layout version \(version.prefix(40)) is not 1.0.0") }
    }
}
