// Request bodies too large to hold in memory (a model bundle sent to /v1/admin/bundles): for the paths an
// `UploadPolicy` names, the body is written to a file in its directory as it arrives, up to its own size limit
// and time limit, and only for peers it allows (checked on the head, before one byte of the body is stored).
// The handler gets the file as `request.upload`; the file is removed when the last reference to it goes, so an
// upload cut off half-way, refused, or handled leaves nothing behind.
import Glibc
import Platform

public struct UploadPolicy: Sendable {
    /// Request paths (POST) whose bodies go to a file.
    public var paths: Set<String>
    public var directory: String
    public var maxBytes: Int
    /// Seconds the whole request may take (instead of the server's request timeout).
    public var timeoutSeconds: Double
    public var allowed: @Sendable (PeerCredentials?) -> Bool
    /// Whether a body of this many bytes (when the head declares its length) may be stored: a reason refuses it
    /// with 507 before a byte is written.
    public var fits: @Sendable (Int) -> String?

    /// `fits` returns nil when a declared length fits, else why not.
    public init(paths: Set<String>, directory: String, maxBytes: Int, timeoutSeconds: Double,
                allowed: @escaping @Sendable (PeerCredentials?) -> Bool, fits: @escaping @Sendable (Int) -> String? = { _ in nil }) {
        self.paths = paths
        self.directory = directory
        self.maxBytes = maxBytes
        self.timeoutSeconds = timeoutSeconds
        self.allowed = allowed
        self.fits = fits
    }
}

/// A request body stored in a file, removed when this object goes.
public final class UploadedBody: @unchecked Sendable {
    public let path: String
    public private(set) var count: Int = 0
    let fd: FileDescriptor
    private var open = true

    init(directory: String) throws(HTTPParseError) {
        var opened: (FileDescriptor, String)?
        for _ in 0..<8 {
            let path = "\(directory)/upload-\(UInt64.random(in: 0...UInt64.max)).partial"
            do {
                opened = (try FileDescriptor.open(path, [.writeOnly, .create, .exclusive, .noFollow], mode: 0o600), path)
                break
            } catch {
                if error.errno.rawValue == EEXIST { continue }
                throw HTTPParseError(.internalServerError, "cannot store the upload: \(error)")
            }
        }
        guard let opened else { throw HTTPParseError(.internalServerError, "cannot store the upload: no free name in \(directory)") }
        (fd, path) = opened
    }

    func append(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) {
        do {
            try fd.writeAll(bytes)
        } catch {
            throw HTTPParseError(.internalServerError, "cannot store the upload: \(error)")
        }
        count += bytes.count
    }

    /// Ends writing (the file stays until this object goes).
    func close() {
        guard open else { return }
        open = false
        fd.close()
    }

    deinit {
        close()
        try? FileSystem.remove(path)
    }
}
