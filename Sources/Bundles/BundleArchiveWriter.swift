// Writing a bundle tar from parts that arrive one by one (a pull from a registry): blobs streamed in, each
// checked against its digest, then the manifest exactly as received and the index naming it. Nothing appears at
// the output path unless every part arrived whole.
import Sodium

public final class BundleArchiveWriter {
    private let sink: TarSink
    private var hasher: SHA256?
    private var expected: (digest: Digest, size: Int64, received: Int64)?
    private var done = false

    /// A new tar at `output` (which must not exist).
    public init(output: String, mtime: Int64) throws(BundleError) {
        sink = try TarSink(path: output, mtime: mtime)
    }

    deinit { if !done { sink.abandon() } }

    /// Starts blob `digest` of `size` bytes.
    public func beginBlob(_ digest: Digest, size: Int64) throws(BundleError) {
        precondition(expected == nil, "one blob at a time")
        hasher = try Digest.hasher()
        expected = (digest, size, 0)
        try sink.beginBlob(size: size)
    }

    public func write(_ chunk: UnsafeRawBufferPointer) throws(BundleError) {
        guard var current = expected else { preconditionFailure("no blob begun") }
        guard current.received + Int64(chunk.count) <= current.size else {
            throw BundleError("blob \(current.digest) is larger than the \(current.size) bytes its descriptor declares")
        }
        hasher!.update(chunk)
        try sink.writeBlob(chunk)
        current.received += Int64(chunk.count)
        expected = current
    }

    /// Ends the blob; its bytes must be exactly the declared size and digest.
    public func finishBlob() throws(BundleError) {
        guard let current = expected, let finished = hasher.take()?.finish() else { preconditionFailure("no blob begun") }
        expected = nil
        guard current.received == current.size else {
            throw BundleError("blob \(current.digest) ended after \(current.received) of its \(current.size) bytes")
        }
        let actual = Digest(sha256: finished)
        guard actual == current.digest else { throw BundleError("blob \(current.digest) arrived with digest \(actual) (altered in transit or by the registry)") }
        try sink.finishBlob(actual)
    }

    /// A small blob held in memory, checked against `digest`.
    public func putBlob(_ bytes: [UInt8], digest: Digest) throws(BundleError) {
        guard try Digest.of(bytes) == digest else { throw BundleError("blob \(digest) arrived with other bytes") }
        try sink.putBlob(bytes)
    }

    /// Writes the manifest bytes and the index naming them, and moves the tar into place.
    public func finish(manifest bytes: [UInt8], version: String?) throws(BundleError) {
        let digest = try sink.putBlob(bytes)
        var annotations: [String: String]?
        if let version { annotations = ["org.opencontainers.image.ref.name": version] }
        let index = OCIIndex(manifests: [OCIDescriptor(mediaType: MediaType.imageManifest, digest: digest, size: Int64(bytes.count),
                                                       artifactType: MediaType.bundle, annotations: annotations)])
        try sink.putFile("index.json", index.bytes)
        try sink.commit()
        done = true
    }
}
