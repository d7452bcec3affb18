// The structure of a bundle as its OCI files describe it, read and checked before any trust decision: the layout
// marker, index.json naming exactly one manifest, the manifest (an Outpost bundle artifact), `bundle.json` and the
// signature blobs (small, read whole and checked against their descriptors' sizes and digests), and the model
// layer's descriptor (the model itself is read only by the verifier, once).
import JSON

public struct BundleContents: Sendable {
    public let manifestDescriptor: OCIDescriptor
    public let manifest: OCIManifest
    /// The exact bytes of `bundle.json` (the config blob).
    public let bundleJSON: [UInt8]
    public let modelLayer: OCIDescriptor
    public let signatureLayers: [OCIDescriptor]
    /// The bytes of each signature blob, in layer order.
    public let signatures: [[UInt8]]

    public static let maxSignatures = 16
    public static let maxSignatureBytes = 16 * 1024

    public init(_ reader: BundleReader) throws(BundleError) {
        let layout = try reader.read("oci-layout", limit: 4096)
        try Self.layout { () throws(JSONFieldError) in try OCILayout.check(layout) }
        let indexBytes = try reader.read("index.json", limit: OCIIndex.maxBytes)
        let index = try Self.layout { () throws(JSONFieldError) in try OCIIndex(parsing: indexBytes) }
        guard index.manifests.count == 1 else {
            throw BundleError(.layout, "index.json lists \(index.manifests.count) manifests; a bundle has exactly one")
        }
        let descriptor = index.manifests[0]
        guard descriptor.mediaType == MediaType.imageManifest else {
            throw BundleError(.layout, "index.json's manifest has media type \(descriptor.mediaType.prefix(100)), expected \(MediaType.imageManifest)")
        }
        if let type = descriptor.artifactType, type != MediaType.bundle {
            throw BundleError(.layout, "index.json names an artifact of type \(type.prefix(100)), not an Outpost bundle")
        }
        guard descriptor.size <= Int64(OCIManifest.maxBytes) else {
            throw BundleError(.layout, "the manifest is declared as \(descriptor.size) bytes, more than \(OCIManifest.maxBytes)")
        }
        let manifestBytes = try Self.blob(reader, descriptor, what: "the manifest")
        let manifest = try Self.layout { () throws(JSONFieldError) in try OCIManifest(parsing: manifestBytes) }
        guard manifest.artifactType == MediaType.bundle else {
            throw BundleError(.layout, "the manifest's artifactType is \(manifest.artifactType.map { "\($0.prefix(100))" } ?? "missing"), expected \(MediaType.bundle)")
        }
        guard manifest.config.mediaType == MediaType.bundleManifest else {
            throw BundleError(.layout, "the manifest's config has media type \(manifest.config.mediaType.prefix(100)), expected \(MediaType.bundleManifest)")
        }
        guard manifest.config.size <= Int64(BundleManifest.maxBytes) else {
            throw BundleError(.layout, "bundle.json is declared as \(manifest.config.size) bytes, more than \(BundleManifest.maxBytes)")
        }
        bundleJSON = try Self.blob(reader, manifest.config, what: "bundle.json")

        var models: [OCIDescriptor] = []
        var signatureLayers: [OCIDescriptor] = []
        for layer in manifest.layers {
            switch layer.mediaType {
            case MediaType.model: models.append(layer)
            case MediaType.signature: signatureLayers.append(layer)
            default: throw BundleError(.layout, "the manifest has a layer of unknown media type \(layer.mediaType.prefix(100))")
            }
        }
        guard models.count == 1 else { throw BundleError(.layout, "the manifest has \(models.count) model layers; a bundle has exactly one") }
        guard signatureLayers.count <= Self.maxSignatures else {
            throw BundleError(.layout, "the manifest has \(signatureLayers.count) signature layers, more than \(Self.maxSignatures)")
        }
        var signatures: [[UInt8]] = []
        for (index, layer) in signatureLayers.enumerated() {
            guard layer.size <= Int64(Self.maxSignatureBytes) else {
                throw BundleError(.layout, "signature \(index + 1) is declared as \(layer.size) bytes, more than \(Self.maxSignatureBytes)")
            }
            signatures.append(try Self.blob(reader, layer, what: "signature \(index + 1)"))
        }
        manifestDescriptor = descriptor
        self.manifest = manifest
        modelLayer = models[0]
        self.signatureLayers = signatureLayers
        self.signatures = signatures
    }

    /// A small blob read whole; its size and digest must be the descriptor's.
    static func blob(_ reader: BundleReader, _ descriptor: OCIDescriptor, what: String) throws(BundleError) -> [UInt8] {
        guard let size = try reader.size(of: descriptor.digest.blobPath) else {
            throw BundleError(.layout, "\(what) (\(descriptor.digest)) is missing from the bundle")
        }
        guard size == descriptor.size else {
            throw BundleError(.layout, "\(what) holds \(size) bytes where its descriptor says \(descriptor.size)")
        }
        let bytes = try reader.read(descriptor.digest.blobPath, limit: Int(descriptor.size))
        guard try Digest.of(bytes) == descriptor.digest else {
            throw BundleError(.layout, "\(what) does not match its digest \(descriptor.digest) (damaged or altered)")
        }
        return bytes
    }

    static func layout<T>(_ body: () throws(JSONFieldError) -> T) throws(BundleError) -> T {
        do {
            return try body()
        } catch {
            throw BundleError(.layout, error.message)
        }
    }
}
