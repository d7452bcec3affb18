// Making a bundle (`outpost bundle create`) and attaching signatures to one (`outpost bundle sign`).
import Platform
import Sodium

public enum BundleBuilder {
    /// The format a path asks for: `*.tar` is a tar, anything else a directory.
    public static func format(forOutput path: String) -> BundleReader.Format {
        path.hasSuffix(".tar") ? .tar : .directory
    }

    /// Writes a new, unsigned bundle at `output` (which must not exist) holding the model file at `modelPath`.
    /// `manifest` is complete but for the model's size and digest, which are measured while the file is copied
    /// (the model is read once). `progress` hears bytes copied and the total. Returns the manifest written.
    public static func create(modelPath: String, manifest template: BundleManifest, output: String,
                              progress: ((Int64, Int64) -> Void)? = nil) throws(BundleError) -> BundleManifest {
        do {
            guard try FileSystem.linkStatus(output) == nil else { throw BundleError("\(output) exists; choose a new path") }
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError("cannot check \(output): \(error)")
        }
        let source: FileDescriptor
        let size: Int64
        do {
            source = try FileDescriptor.open(modelPath, .readOnly)
            let status = try source.status()
            guard status.kind == .regular else { throw BundleError("\(modelPath) is not a regular file") }
            size = status.size
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError("cannot read the model: \(error)")
        }
        defer { source.close() }
        source.adviseSequential()
        let created = UTCTimestamp.parse(template.created) ?? 0
        let sink: any LayoutSink
        if format(forOutput: output) == .tar {
            sink = try TarSink(path: output, mtime: created)
        } else {
            sink = try DirectorySink(path: output, inPlace: false)
        }
        do throws(BundleError) {
            try sink.beginBlob(size: size)
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer { buffer.deallocate() }
            var hasher = try Digest.hasher()
            var done: Int64 = 0
            while done < size {
                let want = Int(min(Int64(buffer.count), size - done))
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
                do {
                    try source.readExactly(into: slice, at: done)
                } catch {
                    throw BundleError("cannot read the model (did it change while being copied?): \(error)")
                }
                hasher.update(UnsafeRawBufferPointer(slice))
                try sink.writeBlob(UnsafeRawBufferPointer(slice))
                done += Int64(want)
                progress?(done, size)
            }
            let modelDigest = Digest(sha256: hasher.finish())
            try sink.finishBlob(modelDigest)

            var manifest = template
            manifest.model.size = size
            manifest.model.sha256 = modelDigest.hex
            let bundleJSON = manifest.bytes
            let configDigest = try sink.putBlob(bundleJSON)
            let oci = OCIManifest(
                artifactType: MediaType.bundle,
                config: OCIDescriptor(mediaType: MediaType.bundleManifest, digest: configDigest, size: Int64(bundleJSON.count)),
                layers: [OCIDescriptor(mediaType: MediaType.model, digest: modelDigest, size: size,
                                       annotations: ["org.opencontainers.image.title": manifest.model.file])],
                annotations: ["org.opencontainers.image.title": manifest.name,
                              "org.opencontainers.image.version": manifest.version.description,
                              "org.opencontainers.image.created": manifest.created])
            try writeManifestAndIndex(oci, version: manifest.version.description, to: sink)
            try sink.commit()
            return manifest
        } catch {
            sink.abandon()
            throw error
        }
    }

    static func writeManifestAndIndex(_ manifest: OCIManifest, version: String?, to sink: any LayoutSink) throws(BundleError) {
        let bytes = manifest.bytes
        let digest = try sink.putBlob(bytes)
        var annotations: [String: String]?
        if let version { annotations = ["org.opencontainers.image.ref.name": version] }
        let index = OCIIndex(manifests: [OCIDescriptor(mediaType: MediaType.imageManifest, digest: digest, size: Int64(bytes.count),
                                                       artifactType: MediaType.bundle, annotations: annotations)])
        try sink.putFile("oci-layout", OCILayout.fileBytes)
        try sink.putFile("index.json", index.bytes)
    }

    /// Adds the minisign signature file `signature` (of the bundle's exact `bundle.json`) to the bundle at `path`.
    /// Refuses a signature that does not parse or whose key already signed the bundle. Returns the signature's key id.
    @discardableResult
    public static func attach(signature: [UInt8], to path: String) throws(BundleError) -> String {
        let reader = try BundleReader(path: path)
        let contents = try BundleContents(reader)
        guard let text = String(validating: signature, as: UTF8.self) else { throw BundleError("the signature is not UTF-8 text") }
        let parsed: MinisignSignature
        do {
            parsed = try MinisignSignature(text: text)
        } catch {
            throw BundleError("not a minisign signature: \(error.message)")
        }
        for existing in contents.signatures {
            if let other = try? MinisignSignature(text: String(decoding: existing, as: UTF8.self)), other.keyID == parsed.keyID {
                throw BundleError("the bundle is already signed by key \(Minisign.keyIDText(parsed.keyID))")
            }
        }
        guard contents.signatures.count < BundleContents.maxSignatures else {
            throw BundleError("the bundle already carries \(BundleContents.maxSignatures) signatures")
        }
        let keyID = Minisign.keyIDText(parsed.keyID)
        var manifest = contents.manifest
        manifest.layers.append(OCIDescriptor(mediaType: MediaType.signature, digest: try Digest.of(signature), size: Int64(signature.count),
                                             annotations: ["org.opencontainers.image.title": "bundle.json.\(keyID).minisig"]))
        let version = contents.manifestDescriptor.annotations?["org.opencontainers.image.ref.name"]
        switch reader.format {
        case .directory:
            let sink = try DirectorySink(path: path, inPlace: true)
            try sink.putBlob(signature)
            try writeManifestAndIndex(manifest, version: version, to: sink)
            try sink.commit()
            // The old manifest is no longer named by index.json.
            if try Digest.of(manifest.bytes) != contents.manifestDescriptor.digest {
                try? FileSystem.remove(path + "/" + contents.manifestDescriptor.digest.blobPath)
            }
        case .tar:
            let sink = try TarSink(path: path, mtime: Int64(Clock.wallSeconds()))
            do throws(BundleError) {
                let skip: Set<String> = ["oci-layout", "index.json", contents.manifestDescriptor.digest.blobPath]
                for name in try reader.fileNames() where !skip.contains(name) {
                    guard let digest = Digest("sha256:" + name.dropFirst("blobs/sha256/".count)), name.hasPrefix("blobs/sha256/") else {
                        throw BundleError("the bundle holds an unexpected file \(name); refusing to rewrite it")
                    }
                    guard let size = try reader.size(of: name) else { continue }
                    try sink.beginBlob(size: size)
                    try reader.stream(name, limit: size) { (chunk) throws(BundleError) in try sink.writeBlob(chunk) }
                    try sink.finishBlob(digest)
                }
                try sink.putBlob(signature)
                try writeManifestAndIndex(manifest, version: version, to: sink)
                try sink.commit()
            } catch {
                sink.abandon()
                throw error
            }
        }
        return keyID
    }
}
