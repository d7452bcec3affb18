// Where a bundle being written goes: an image-layout directory or a tar of one. A new bundle is written beside
// its final path and renamed into place only when complete, so a crash or an error leaves no half bundle; a
// directory bundle gaining a signature is changed in place, index.json last (the commit point).
import Glibc
import Platform

protocol LayoutSink: AnyObject {
    /// Starts a blob of `size` bytes whose digest is known only at its end.
    func beginBlob(size: Int64) throws(BundleError)
    func writeBlob(_ chunk: UnsafeRawBufferPointer) throws(BundleError)
    func finishBlob(_ digest: Digest) throws(BundleError)
    func putFile(_ name: String, _ bytes: [UInt8]) throws(BundleError)
    /// Makes everything written visible at the final path.
    func commit() throws(BundleError)
    /// Removes what was written, after an error.
    func abandon()
}

extension LayoutSink {
    @discardableResult
    func putBlob(_ bytes: [UInt8]) throws(BundleError) -> Digest {
        let digest = try Digest.of(bytes)
        try beginBlob(size: Int64(bytes.count))
        var failure: BundleError?
        bytes.withUnsafeBytes { raw in
            do throws(BundleError) { try writeBlob(raw) } catch { failure = error }
        }
        if let failure { throw failure }
        try finishBlob(digest)
        return digest
    }
}

func writeError(_ path: String, _ error: any Error) -> BundleError {
    BundleError("cannot write \(path): \(error)")
}

final class DirectorySink: LayoutSink {
    let finalPath: String
    let root: String
    let inPlace: Bool
    private var blob: (fd: FileDescriptor, path: String)?
    private var written: [String] = []

    /// A new bundle directory at `path` (which must not exist), or, `inPlace`, the existing one.
    init(path: String, inPlace: Bool) throws(BundleError) {
        finalPath = path
        self.inPlace = inPlace
        root = inPlace ? path : "\(path).partial-\(getpid())"
        guard !inPlace else { return }
        do {
            try FileSystem.makeDirectory(root, mode: 0o755)
            try FileSystem.makeDirectory(root + "/blobs", mode: 0o755)
            try FileSystem.makeDirectory(root + "/blobs/sha256", mode: 0o755)
        } catch {
            abandon()
            throw writeError(root, error)
        }
    }

    func beginBlob(size: Int64) throws(BundleError) {
        let path = root + "/blobs/sha256/.partial-\(getpid())"
        do {
            let fd = try FileDescriptor.open(path, [.writeOnly, .create, .truncate, .noFollow], mode: 0o644)
            blob = (fd, path)
            written.append(path)
        } catch {
            throw writeError(path, error)
        }
    }

    func writeBlob(_ chunk: UnsafeRawBufferPointer) throws(BundleError) {
        guard let blob else { preconditionFailure("no blob begun") }
        do {
            try blob.fd.writeAll(chunk)
        } catch {
            throw writeError(blob.path, error)
        }
    }

    func finishBlob(_ digest: Digest) throws(BundleError) {
        guard let blob else { preconditionFailure("no blob begun") }
        self.blob = nil
        let target = root + "/" + digest.blobPath
        do {
            try blob.fd.sync()
            blob.fd.close()
            try FileSystem.rename(blob.path, to: target)
            written.append(target)
        } catch {
            blob.fd.close()
            throw writeError(target, error)
        }
    }

    func putFile(_ name: String, _ bytes: [UInt8]) throws(BundleError) {
        let path = root + "/" + name
        do {
            try AtomicFile.write(bytes, to: path, mode: 0o644)
            if !inPlace { written.append(path) }
        } catch {
            throw writeError(path, error)
        }
    }

    func commit() throws(BundleError) {
        do {
            try FileSystem.syncDirectory(root + "/blobs/sha256")
            try FileSystem.syncDirectory(root)
            guard !inPlace else { return }
            guard try FileSystem.linkStatus(finalPath) == nil else { throw BundleError("\(finalPath) appeared while the bundle was written; keeping it") }
            try FileSystem.rename(root, to: finalPath)
            try FileSystem.syncDirectory(FileSystem.directoryName(of: finalPath))
        } catch let error as BundleError {
            throw error
        } catch {
            throw writeError(finalPath, error)
        }
    }

    func abandon() {
        blob?.fd.close()
        blob = nil
        for path in written.reversed() { try? FileSystem.remove(path) }
        written = []
        guard !inPlace else { return }
        try? FileSystem.removeDirectory(root + "/blobs/sha256")
        try? FileSystem.removeDirectory(root + "/blobs")
        try? FileSystem.removeDirectory(root)
    }
}

final class TarSink: LayoutSink {
    let finalPath: String
    let temporary: String
    private let fd: FileDescriptor
    private let writer: TarWriter
    private var open = true

    /// A tar written beside `path` and renamed over it on commit.
    init(path: String, mtime: Int64) throws(BundleError) {
        finalPath = path
        temporary = "\(path).partial-\(getpid())"
        do {
            fd = try FileDescriptor.open(temporary, [.readWrite, .create, .exclusive, .noFollow], mode: 0o644)
        } catch {
            throw writeError(temporary, error)
        }
        writer = TarWriter(fd: fd, mtime: mtime)
        do {
            try writer.addFile("oci-layout", OCILayout.fileBytes)
            try writer.addDirectory("blobs")
            try writer.addDirectory("blobs/sha256")
        } catch {
            abandon()
            throw writeError(temporary, error)
        }
    }

    func beginBlob(size: Int64) throws(BundleError) {
        do { try writer.beginFile(size: size) } catch { throw writeError(temporary, error) }
    }

    func writeBlob(_ chunk: UnsafeRawBufferPointer) throws(BundleError) {
        do { try writer.write(chunk) } catch { throw writeError(temporary, error) }
    }

    func finishBlob(_ digest: Digest) throws(BundleError) {
        do { try writer.finishFile(name: digest.blobPath) } catch { throw writeError(temporary, error) }
    }

    func putFile(_ name: String, _ bytes: [UInt8]) throws(BundleError) {
        // The layout marker went first.
        guard name != "oci-layout" else { return }
        do { try writer.addFile(name, bytes) } catch { throw writeError(temporary, error) }
    }

    func commit() throws(BundleError) {
        do {
            try writer.finish()
            try fd.sync()
            fd.close()
            open = false
            try FileSystem.rename(temporary, to: finalPath)
            try FileSystem.syncDirectory(FileSystem.directoryName(of: finalPath))
        } catch {
            abandon()
            throw writeError(finalPath, error)
        }
    }

    func abandon() {
        if open { fd.close() }
        open = false
        try? FileSystem.remove(temporary)
    }
}
