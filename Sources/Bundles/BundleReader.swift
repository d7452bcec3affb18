// Reads the files of a bundle, whether it is an image-layout directory or a tar of one, by name. Names are the
// layout's own (`index.json`, `blobs/sha256/<hex>`); nothing outside the bundle is ever opened: in a directory
// no component may be a symbolic link, in a tar entries are read by offset and never extracted.
import Platform

public final class BundleReader {
    public enum Format: String, Sendable { case directory, tar }

    public let path: String
    public let format: Format
    private let archive: FileDescriptor?
    private let entries: [String: TarEntry]

    /// Bytes per read when streaming a blob.
    static let chunkBytes = 1 << 20

    public init(path: String) throws(BundleError) {
        self.path = path
        let status: FileStatus?
        do {
            status = try FileSystem.linkStatus(path)
        } catch {
            throw BundleError(.layout, "cannot open the bundle: \(error)")
        }
        switch status?.kind {
        case nil:
            throw BundleError(.layout, "\(path) does not exist")
        case .directory?:
            format = .directory
            archive = nil
            entries = [:]
        case .regular?:
            format = .tar
            let fd: FileDescriptor
            do {
                fd = try FileDescriptor.open(path, [.noFollow])
            } catch {
                throw BundleError(.layout, "cannot open the bundle: \(error)")
            }
            do {
                let list = try Tar.entries(of: fd, length: status!.size)
                entries = Dictionary(uniqueKeysWithValues: list.map { ($0.name, $0) })
            } catch {
                fd.close()
                throw BundleError(.layout, "\(path): \(error)")
            }
            archive = fd
        default:
            throw BundleError(.layout, "\(path) is neither a bundle directory nor a tar file")
        }
    }

    deinit { archive?.close() }

    /// The regular files of the bundle, sorted (for `inspect`).
    public func fileNames() throws(BundleError) -> [String] {
        if format == .tar { return entries.values.filter { $0.kind == .file }.map(\.name).sorted() }
        var names: [String] = []
        do {
            for top in try FileSystem.listDirectory(path) {
                if top == "blobs" {
                    for algorithm in try FileSystem.listDirectory(path + "/blobs") {
                        for blob in try FileSystem.listDirectory(path + "/blobs/" + algorithm) {
                            names.append("blobs/\(algorithm)/\(blob)")
                        }
                    }
                } else {
                    names.append(top)
                }
            }
        } catch {
            throw BundleError(.layout, "cannot list \(path): \(error)")
        }
        return names.sorted()
    }

    /// The size of file `name`; nil when the bundle has no such file.
    public func size(of name: String) throws(BundleError) -> Int64? {
        switch format {
        case .tar:
            guard let entry = entries[name] else { return nil }
            guard entry.kind == .file else { throw BundleError(.layout, "\(name) is a directory in the bundle") }
            return entry.size
        case .directory:
            guard let fd = try openInDirectory(name) else { return nil }
            defer { fd.close() }
            return try statusOf(fd, name).size
        }
    }

    /// The whole of file `name`, which must exist and hold at most `limit` bytes.
    public func read(_ name: String, limit: Int) throws(BundleError) -> [UInt8] {
        var result: [UInt8] = []
        try stream(name, limit: Int64(limit)) { (chunk) throws(BundleError) in result.append(contentsOf: chunk) }
        return result
    }

    /// Passes file `name` to `body` in chunks, front to back; the file must exist and hold at most `limit` bytes.
    /// Returns the number of bytes passed.
    @discardableResult
    public func stream(_ name: String, limit: Int64, _ body: (UnsafeRawBufferPointer) throws(BundleError) -> Void) throws(BundleError) -> Int64 {
        let fd: FileDescriptor
        let start: Int64
        let size: Int64
        switch format {
        case .tar:
            guard let entry = entries[name], entry.kind == .file else { throw BundleError(.layout, "the bundle has no file \(name)") }
            fd = archive!
            start = entry.offset
            size = entry.size
        case .directory:
            guard let opened = try openInDirectory(name) else { throw BundleError(.layout, "the bundle has no file \(name)") }
            fd = opened
            start = 0
            size = try statusOf(opened, name).size
            opened.adviseSequential()
        }
        defer { if format == .directory { fd.close() } }
        guard size <= limit else { throw BundleError(.layout, "\(name) holds \(size) bytes, more than the \(limit) allowed") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Int(min(Int64(Self.chunkBytes), max(size, 1))), alignment: 64)
        defer { buffer.deallocate() }
        var done: Int64 = 0
        while done < size {
            let want = Int(min(Int64(buffer.count), size - done))
            let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
            do {
                try fd.readExactly(into: slice, at: start + done)
            } catch {
                throw BundleError(.layout, "cannot read \(name): \(error)")
            }
            try body(UnsafeRawBufferPointer(slice))
            done += Int64(want)
        }
        return done
    }

    /// Calls `body` with a descriptor from which file `name` can be read in place: the descriptor, the offset of
    /// its first byte and its length (for sending it without a copy).
    public func withFile<R>(_ name: String, _ body: (FileDescriptor, Int64, Int64) throws -> R) throws -> R {
        switch format {
        case .tar:
            guard let entry = entries[name], entry.kind == .file else { throw BundleError(.layout, "the bundle has no file \(name)") }
            return try body(archive!, entry.offset, entry.size)
        case .directory:
            guard let fd = try openInDirectory(name) else { throw BundleError(.layout, "the bundle has no file \(name)") }
            defer { fd.close() }
            return try body(fd, 0, try statusOf(fd, name).size)
        }
    }

    /// Opens `name` below the bundle directory without following a symbolic link anywhere on the way.
    private func openInDirectory(_ name: String) throws(BundleError) -> FileDescriptor? {
        let components = name.split(separator: "/", omittingEmptySubsequences: false)
        guard !components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) else {
            throw BundleError(.layout, "'\(name)' is not a name inside the bundle")
        }
        var current = path
        do {
            for component in components.dropLast() {
                current += "/" + component
                guard let status = try FileSystem.linkStatus(current) else { return nil }
                guard status.kind == .directory else {
                    throw BundleError(.layout, "\(current) is \(status.kind == .symbolicLink ? "a symbolic link" : "not a directory"); a bundle holds only plain directories and files")
                }
            }
            let file = current + "/" + components.last!
            guard let status = try FileSystem.linkStatus(file) else { return nil }
            guard status.kind == .regular else {
                throw BundleError(.layout, "\(file) is \(status.kind == .symbolicLink ? "a symbolic link" : "not a regular file"); a bundle holds only plain files")
            }
            return try FileDescriptor.open(file, [.noFollow])
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError(.layout, "cannot open \(name) in the bundle: \(error)")
        }
    }

    private func statusOf(_ fd: FileDescriptor, _ name: String) throws(BundleError) -> FileStatus {
        do {
            let status = try fd.status()
            guard status.kind == .regular else { throw BundleError(.layout, "\(name) in the bundle is not a regular file") }
            return status
        } catch let error as BundleError {
            throw error
        } catch {
            throw BundleError(.layout, "cannot read \(name): \(error)")
        }
    }
}
