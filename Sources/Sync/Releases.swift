// Release channels on a registry: publishing a signed release (release.json naming bundles by manifest digest,
// tagged with the channel) and reading the one a channel points to.
import Bundles
import Platform

public enum Releases {
    /// What a channel tag points to: the signed document, its signatures and the release's manifest digest.
    public struct Fetched: Sendable {
        public let document: [UInt8]
        public let signatures: [[UInt8]]
        public let digest: Digest
    }

    /// The release `channel` points to, or nil when the channel has none yet.
    public static func fetch(_ channel: String, from client: RegistryClient) throws(RegistryError) -> Fetched? {
        guard let (bytes, _, digest) = try client.manifestIfPresent(channel) else { return nil }
        let manifest: OCIManifest
        do {
            manifest = try OCIManifest(parsing: bytes)
        } catch {
            throw RegistryError("channel \(channel): the manifest does not parse: \(error.message)")
        }
        guard manifest.artifactType == MediaType.release, manifest.config.mediaType == MediaType.releaseManifest else {
            throw RegistryError("channel \(channel) does not point to an Outpost release (artifactType \(manifest.artifactType ?? "none"))")
        }
        let document = try client.smallBlob(manifest.config, limit: ReleaseManifest.maxBytes)
        var signatures: [[UInt8]] = []
        for layer in manifest.layers.prefix(BundleContents.maxSignatures) where layer.mediaType == MediaType.releaseSignature {
            signatures.append(try client.smallBlob(layer, limit: BundleContents.maxSignatureBytes))
        }
        return Fetched(document: document, signatures: signatures, digest: digest)
    }

    /// The bundle `reference` names in the repository: its manifest digest and bundle.json (not yet trusted).
    public static func resolveBundle(_ reference: String, in client: RegistryClient) throws(RegistryError) -> (Digest, BundleManifest) {
        let (bytes, _, digest) = try client.manifest(reference)
        let manifest: OCIManifest
        do {
            manifest = try OCIManifest(parsing: bytes)
        } catch {
            throw RegistryError("\(reference): the manifest does not parse: \(error.message)")
        }
        guard manifest.artifactType == MediaType.bundle else { throw RegistryError("\(reference) is not an Outpost bundle") }
        let json = try client.smallBlob(manifest.config, limit: BundleManifest.maxBytes)
        do {
            return (digest, try BundleManifest(parsing: json))
        } catch {
            throw RegistryError("\(reference): bundle.json does not parse: \(error.message)")
        }
    }

    /// Builds, signs and pushes a release of `channel` naming `bundles` (name → tag or digest in the repository).
    /// The number defaults to one more than the channel's current release. Returns the release and its digest.
    public static func publish(channel: String, bundles: [(name: String, reference: String)], key: MinisignSecretKey,
                               expiresInDays: Int, number: Int64?, to client: RegistryClient, now: Int64) throws(RegistryError) -> (ReleaseManifest, Digest) {
        guard ReleaseManifest.isValidChannel(channel) else { throw RegistryError("channel '\(channel)' must be a valid tag name") }
        var entries: [String: ReleaseManifest.Entry] = [:]
        for (name, reference) in bundles {
            let (digest, manifest) = try resolveBundle(reference, in: client)
            guard manifest.name == name else { throw RegistryError("\(reference) is bundle \(manifest.name), not \(name)") }
            entries[name] = ReleaseManifest.Entry(version: manifest.version, manifest: digest)
        }
        var next = number ?? 1
        if number == nil, let current = try fetch(channel, from: client), let release = try? ReleaseManifest(parsing: current.document) {
            next = release.number + 1
        }
        let release = ReleaseManifest(channel: channel, number: next, created: UTCTimestamp.format(wholeSeconds: now),
                                      expires: UTCTimestamp.format(wholeSeconds: now + Int64(expiresInDays) * 86_400), bundles: entries)
        let document = release.bytes
        let signature: [UInt8]
        do {
            signature = Array(try MinisignSignature.sign(document, with: key, trustedComment: "release:\(channel)#\(next)\ttimestamp:\(now)",
                                                         untrustedComment: "signature of release.json").utf8)
        } catch {
            throw RegistryError("\(error)")
        }
        let configDigest = try client.pushBlob(document)
        let signatureDigest = try client.pushBlob(signature)
        let manifest = OCIManifest(
            artifactType: MediaType.release,
            config: OCIDescriptor(mediaType: MediaType.releaseManifest, digest: configDigest, size: Int64(document.count)),
            layers: [OCIDescriptor(mediaType: MediaType.releaseSignature, digest: signatureDigest, size: Int64(signature.count),
                                   annotations: ["org.opencontainers.image.title": "release.json.\(Minisign.keyIDText(key.keyID)).minisig"])],
            annotations: ["org.opencontainers.image.created": release.created])
        let digest = try client.pushManifest(manifest.bytes, mediaType: MediaType.imageManifest, reference: channel)
        return (release, digest)
    }
}
