// Files by path and by descriptor beyond plain reads and writes: positioned I/O, status, directory listing,
// rename and removal. Every call goes through the errno funnel.
import Glibc

/// What `stat` says about a file, reduced to what callers decide on.
public struct FileStatus: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case regular, directory, symbolicLink, other
    }

    public let kind: Kind
    public let size: Int64
    public let mode: UInt32
    public let linkCount: UInt64

    init(_ info: stat) {
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        default: kind = .other
        }
        size = Int64(info.st_size)
        mode = UInt32(info.st_mode & 0o7777)
        linkCount = UInt64(info.st_nlink)
    }
}

extension FileDescriptor.OpenFlags {
    /// Refuse to open the last component when it is a symbolic link (ELOOP).
    public static let noFollow = FileDescriptor.OpenFlags(rawValue: O_NOFOLLOW)
}

extension FileDescriptor {
    /// Reads up to `buffer.count` bytes at `offset` without moving the file position; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Result<Int, Errno> {
        syscall { pread(rawValue, buffer.baseAddress, buffer.count, off_t(offset)) }
    }

    /// Reads exactly `buffer.count` bytes at `offset`; a file that ends first is an error (EIO, "short read").
    public func readExactly(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            switch read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[done...]), at: offset + Int64(done)) {
            case .success(0): throw SystemError("read", "(the file ends \(buffer.count - done) bytes early)", errno: Errno(rawValue: EIO))
            case .success(let n): done += n
            case .failure(let error): throw SystemError("read", errno: error)
            }
        }
    }

    /// `count` bytes at `offset`.
    public func read(count: Int, at offset: Int64) throws(SystemError) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(count, 1), alignment: 8)
        defer { buffer.deallocate() }
        let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count])
        try readExactly(into: slice, at: offset)
        return [UInt8](slice)
    }

    /// Writes every byte of `buffer` (blocking descriptors only), without copying it first.
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        var done = 0
        while done < buffer.count {
            switch write(UnsafeRawBufferPointer(rebasing: buffer[done...])) {
            case .success(let n): done += n
            case .failure(let error): throw SystemError("write", errno: error)
            }
        }
    }

    /// Writes every byte at `offset` without moving the file position.
    public func writeAll(_ bytes: [UInt8], at offset: Int64) throws(SystemError) {
        var done = 0
        while done < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                syscall { pwrite(rawValue, raw.baseAddress! + done, raw.count - done, off_t(offset + Int64(done))) }
            }
            switch result {
            case .success(let n): done += n
            case .failure(let error): throw SystemError("write", errno: error)
            }
        }
    }

    public func status() throws(SystemError) -> FileStatus {
        var info = stat()
        _ = try checked("fstat") { fstat(rawValue, &info) }
        return FileStatus(info)
    }

    /// Sets the file position; returns the new one.
    @discardableResult
    public func seek(to offset: Int64) throws(SystemError) -> Int64 {
        Int64(try checked("lseek") { lseek(rawValue, off_t(offset), SEEK_SET) })
    }

    public func truncate(to size: Int64) throws(SystemError) {
        _ = try checked("ftruncate") { ftruncate(rawValue, off_t(size)) }
    }

    /// Tells the kernel the file will be read once from start to end (more read-ahead, pages dropped sooner).
    public func adviseSequential() {
        _ = posix_fadvise(rawValue, 0, 0, POSIX_FADV_SEQUENTIAL)
    }
}

public enum FileSystem {
    /// The status of `path` itself (a symbolic link is reported as one); nil when it does not exist.
    public static func linkStatus(_ path: String) throws(SystemError) -> FileStatus? {
        var info = stat()
        if lstat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw SystemError("lstat", path, errno: .current)
        }
        return FileStatus(info)
    }

    /// The names in directory `path`, without "." and "..", sorted.
    public static func listDirectory(_ path: String) throws(SystemError) -> [String] {
        guard let directory = opendir(path) else { throw SystemError("opendir", path, errno: .current) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public static func rename(_ from: String, to: String) throws(SystemError) {
        _ = try checked("rename", "\(from) to \(to)") { Glibc.rename(from, to) }
    }

    /// Removes a file; a missing one is not an error.
    public static func remove(_ path: String) throws(SystemError) {
        if unlink(path) != 0 && errno != ENOENT { throw SystemError("unlink", path, errno: .current) }
    }

    /// Removes an empty directory; a missing one is not an error.
    public static func removeDirectory(_ path: String) throws(SystemError) {
        if rmdir(path) != 0 && errno != ENOENT { throw SystemError("rmdir", path, errno: .current) }
    }

    /// Creates one directory; `existingIsFine` accepts one that is already there (and is a directory).
    public static func makeDirectory(_ path: String, mode: UInt32 = 0o755, existingIsFine: Bool = false) throws(SystemError) {
        if mkdir(path, mode_t(mode)) == 0 { return }
        let error = Errno.current
        if error.rawValue == EEXIST && existingIsFine, try linkStatus(path)?.kind == .directory { return }
        throw SystemError("mkdir", path, errno: error)
    }

    /// fsyncs directory `path`, so that renames and creations in it survive a power cut.
    public static func syncDirectory(_ path: String) throws(SystemError) {
        let directory = try FileDescriptor.open(path, [.directory])
        defer { directory.close() }
        try directory.sync()
    }

    /// The directory part of `path` ("." when there is none).
    public static func directoryName(of path: String) -> String { AtomicFile.directoryName(of: path) }
}

extension FileSystem {
    /// The status of what `path` names, following symbolic links; nil when it does not exist.
    public static func status(_ path: String) throws(SystemError) -> FileStatus? {
        var info = stat()
        if stat(path, &info) != 0 {
            if errno == ENOENT { return nil }
            throw SystemError("stat", path, errno: .current)
        }
        return FileStatus(info)
    }
}

extension FileSystem {
    /// Bytes an unprivileged process may still write on the file system holding `path`; nil when unknown.
    public static func availableBytes(_ path: String) -> Int64? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
