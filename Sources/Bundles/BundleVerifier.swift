// Decides whether a bundle may be trusted, in the order minisign and TUF teach: structure and lengths first,
// then signature algorithm and key id, then the signature over the exact `bundle.json` bytes (before they are
// parsed), then the threshold of distinct trusted keys, expiry, minimum agent version, and last every byte of the
// model against the size and SHA-256 that `bundle.json` lists (read once, streamed). Each check refuses on its own
// with a `BundleError` naming it.
import JSON
import Sodium

public struct VerifiedBundle: Sendable {
    public let manifest: BundleManifest
    /// Key ids (minisign's upper-case hex) of the trusted keys whose signatures verified, sorted.
    public let keyIDs: [String]
    public let contents: BundleContents
}

public struct BundleVerifier: Sendable {
    public let trusted: TrustedKeys
    /// Distinct trusted keys that must have signed.
    public let threshold: Int
    /// Seconds since the epoch to judge expiry by.
    public let now: Int64
    public let agentVersion: SemanticVersion

    public init(trusted: TrustedKeys, threshold: Int, now: Int64, agentVersion: SemanticVersion) {
        precondition(threshold >= 1, "a threshold of at least one signature")
        self.trusted = trusted
        self.threshold = threshold
        self.now = now
        self.agentVersion = agentVersion
    }

    /// Runs every check; `progress` hears how many model bytes have been hashed so far.
    public func verify(_ reader: BundleReader, progress: ((Int64, Int64) -> Void)? = nil) throws(BundleError) -> VerifiedBundle {
        let contents = try BundleContents(reader)
        let (manifest, keyIDs) = try verifySigned(contents)
        try verifyModel(reader, contents: contents, manifest: manifest, progress: progress)
        return VerifiedBundle(manifest: manifest, keyIDs: keyIDs, contents: contents)
    }

    /// Every check but the model's bytes: signatures, threshold, `bundle.json`, expiry, agent version, layers.
    public func verifySigned(_ contents: BundleContents) throws(BundleError) -> (BundleManifest, [String]) {
        let (manifest, signers) = try verifySignatures(bundleJSON: contents.bundleJSON, signatures: contents.signatures)
        let layer = contents.modelLayer
        guard layer.digest.hex == manifest.model.sha256, layer.size == manifest.model.size else {
            throw BundleError(.layers, "the manifest's model layer (\(layer.digest), \(layer.size) bytes) is not the model bundle.json lists (sha256:\(manifest.model.sha256), \(manifest.model.size) bytes)")
        }
        return (manifest, signers)
    }

    /// The checks on `bundle.json` and its signatures alone, in order: signature format, trusted key, signature,
    /// threshold, `bundle.json`, expiry, agent version. A site runs them again on what it stored, at every start.
    public func verifySignatures(bundleJSON: [UInt8], signatures: [[UInt8]]) throws(BundleError) -> (BundleManifest, [String]) {
        let signers = try verifySigned(document: bundleJSON, signatures: signatures, what: "the bundle")
        let manifest: BundleManifest
        do {
            manifest = try BundleManifest(parsing: bundleJSON)
        } catch {
            if let needed = BundleManifest.declaredMinimumAgentVersion(bundleJSON), needed > agentVersion {
                throw BundleError(.agentVersion, "the bundle needs Outpost \(needed) or later; this is \(agentVersion)")
            }
            throw BundleError(.manifest, "bundle.json: \(error.message)")
        }
        if let expires = manifest.expiresAt, now >= expires {
            throw BundleError(.expiry, "the bundle expired at \(manifest.expires!)")
        }
        guard manifest.minAgentVersion <= agentVersion else {
            throw BundleError(.agentVersion, "the bundle needs Outpost \(manifest.minAgentVersion) or later; this is \(agentVersion)")
        }
        return (manifest, signers)
    }

    /// The checks every signed document gets, in order: each signature's format, at least one by a trusted key
    /// (others are ignored), every trusted key's signature over the exact bytes and its trusted comment, and the
    /// threshold of distinct trusted keys. Returns the signers' key ids, sorted.
    public func verifySigned(document: [UInt8], signatures: [[UInt8]], what: String) throws(BundleError) -> [String] {
        guard !signatures.isEmpty else { throw BundleError(.signatureFormat, "\(what) carries no signature") }
        var parsed: [MinisignSignature] = []
        for (index, bytes) in signatures.enumerated() {
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw BundleError(.signatureFormat, "signature \(index + 1) is not UTF-8 text")
            }
            do {
                parsed.append(try MinisignSignature(text: text, what: "signature \(index + 1)"))
            } catch {
                throw BundleError(.signatureFormat, error.message)
            }
        }
        let byTrustedKeys = parsed.enumerated().filter { trusted.keys[$0.element.keyID] != nil }
        guard !byTrustedKeys.isEmpty else {
            let signers = Set(parsed.map { Minisign.keyIDText($0.keyID) }).sorted().joined(separator: ", ")
            throw BundleError(.trustedKey, "signed only by untrusted keys (\(signers)); trusted: \(trusted.keyIDTexts.joined(separator: ", "))")
        }
        let digest: [UInt8]
        do {
            digest = try BLAKE2b.hash(document)
        } catch {
            throw BundleError(.signature, "\(error)")
        }
        var signers: Set<[UInt8]> = []
        for (index, signature) in byTrustedKeys {
            do {
                try signature.verify(messageDigest: digest, message: document, publicKey: trusted.keys[signature.keyID]!)
            } catch {
                throw BundleError(.signature, "signature \(index + 1) (key \(Minisign.keyIDText(signature.keyID))): \(error.message)")
            }
            signers.insert(signature.keyID)
        }
        guard signers.count >= threshold else {
            throw BundleError(.threshold, "\(signers.count) distinct trusted key\(signers.count == 1 ? "" : "s") signed; \(threshold) required")
        }
        return signers.map(Minisign.keyIDText).sorted()
    }

    /// Streams the model blob once, checking its size and SHA-256 against `bundle.json`.
    public func verifyModel(_ reader: BundleReader, contents: BundleContents, manifest: BundleManifest,
                            progress: ((Int64, Int64) -> Void)? = nil) throws(BundleError) {
        let path = Digest("sha256:" + manifest.model.sha256)!.blobPath
        let expected = manifest.model.size
        guard let size = try reader.size(of: path) else { throw BundleError(.model, "the model blob \(path) is missing") }
        guard size == expected else { throw BundleError(.model, "the model blob holds \(size) bytes; bundle.json says \(expected)") }
        var hasher = try Digest.hasher()
        var done: Int64 = 0
        try reader.stream(path, limit: expected) { (chunk) throws(BundleError) in
            hasher.update(chunk)
            done += Int64(chunk.count)
            progress?(done, expected)
        }
        let digest = Digest(sha256: hasher.finish())
        guard digest.hex == manifest.model.sha256 else {
            throw BundleError(.model, "the model's SHA-256 is \(digest.hex), bundle.json says \(manifest.model.sha256) (damaged or altered)")
        }
    }
}
