// Moving a bundle between a site's disk and a registry, unchanged: push uploads its blobs (skipping those the
// repository has) and its OCI manifest under a tag; pull fetches a manifest and every blob it names into a new
// bundle tar, each blob checked against its digest while it streams. Trust is still decided by BundleVerifier on
// the result; this only moves bytes faithfully.
import Bundles
import Platform

public enum BundleTransfer {
    /// Pushes the bundle `reader` holds; returns the manifest's digest. `progress` hears bytes sent and the total.
    public static func push(_ reader: BundleReader, to client: RegistryClient, tag: String,
                            progress: ((Int64, Int64) -> Void)? = nil) throws(RegistryError) -> Digest {
        let contents: BundleContents
        let manifestBytes: [UInt8]
        do {
            contents = try BundleContents(reader)
            manifestBytes = try reader.read(contents.manifestDescriptor.digest.blobPath, limit: OCIManifest.maxBytes)
        } catch {
            throw RegistryError("not a bundle: \(error)")
        }
        guard isValidTag(tag) else { throw RegistryError("tag '\(tag)' must be 1 to 128 letters, digits, '_', '.' or '-', not starting with '.' or '-'") }
        let blobs = [contents.manifest.config] + contents.manifest.layers
        let total = blobs.reduce(Int64(0)) { $0 + $1.size }
        var before: Int64 = 0
        for blob in blobs {
            var failure: RegistryError?
            do {
                try reader.withFile(blob.digest.blobPath) { fd, offset, length in
                    guard length == blob.size else { throw BundleError(.layout, "\(blob.digest) holds \(length) bytes, its descriptor says \(blob.size)") }
                    do throws(RegistryError) {
                        try client.pushBlob(blob.digest, file: fd, offset: offset, length: length) { sent in progress?(before + sent, total) }
                    } catch {
                        failure = error
                    }
                }
            } catch {
                throw RegistryError("cannot read \(blob.digest): \(error)")
            }
            if let failure { throw failure }
            before += blob.size
            progress?(before, total)
        }
        return try client.pushManifest(manifestBytes, mediaType: MediaType.imageManifest, reference: tag)
    }

    /// Pulls `reference` (a tag or digest) into a new bundle tar at `output`; returns the manifest's digest.
    public static func pull(_ reference: String, from client: RegistryClient, output: String,
                            progress: ((Int64, Int64) -> Void)? = nil) throws(RegistryError) -> Digest {
        let (bytes, _, digest) = try client.manifest(reference)
        let manifest: OCIManifest
        do {
            manifest = try OCIManifest(parsing: bytes)
        } catch {
            throw RegistryError("manifest \(reference) does not parse: \(error.message)")
        }
        guard manifest.artifactType == MediaType.bundle else {
            throw RegistryError("\(reference) is not an Outpost bundle (artifactType \(manifest.artifactType ?? "none"))")
        }
        let blobs = [manifest.config] + manifest.layers
        let total = blobs.reduce(Int64(0)) { $0 + $1.size }
        let writer: BundleArchiveWriter
        do {
            writer = try BundleArchiveWriter(output: output, mtime: Int64(Clock.wallSeconds()))
        } catch {
            throw RegistryError("\(error)")
        }
        var before: Int64 = 0
        for blob in blobs {
            do {
                try writer.beginBlob(blob.digest, size: blob.size)
            } catch {
                throw RegistryError("\(error)")
            }
            _ = try client.fetchBlob(blob.digest) { (chunk) throws(RegistryError) in
                do {
                    try writer.write(chunk)
                } catch {
                    throw RegistryError("\(error)")
                }
                before += Int64(chunk.count)
                progress?(before, total)
            }
            do {
                try writer.finishBlob()
            } catch {
                throw RegistryError("\(error)", transient: true)
            }
        }
        do {
            try writer.finish(manifest: bytes, version: manifest.annotations?["org.opencontainers.image.version"])
        } catch {
            throw RegistryError("\(error)")
        }
        return digest
    }

    /// The distribution spec's tag grammar: [a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}.
    public static func isValidTag(_ tag: String) -> Bool {
        let bytes = Array(tag.utf8)
        func word(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == UInt8(ascii: "_") }
        return (1...128).contains(bytes.count) && word(bytes[0]) && bytes.allSatisfy { word($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "-") }
    }
}
