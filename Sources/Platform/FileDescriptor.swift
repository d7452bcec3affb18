// A file descriptor and the byte-level operations on it.
import CPlatform
import Glibc

public struct FileDescriptor: Hashable, Sendable {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static let standardInput = FileDescriptor(rawValue: 0)
    public static let standardOutput = FileDescriptor(rawValue: 1)
    public static let standardError = FileDescriptor(rawValue: 2)

    public struct OpenFlags: OptionSet, Sendable {
        public let rawValue: Int32
        public init(rawValue: Int32) { self.rawValue = rawValue }
        public static let readOnly = OpenFlags([])
        public static let writeOnly = OpenFlags(rawValue: O_WRONLY)
        public static let readWrite = OpenFlags(rawValue: O_RDWR)
        public static let create = OpenFlags(rawValue: O_CREAT)
        public static let truncate = OpenFlags(rawValue: O_TRUNC)
        public static let exclusive = OpenFlags(rawValue: O_EXCL)
        public static let append = OpenFlags(rawValue: O_APPEND)
        public static let directory = OpenFlags(rawValue: O_DIRECTORY)
    }

    public static func open(_ path: String, _ flags: OpenFlags, mode: UInt32 = 0o644) throws(SystemError) -> FileDescriptor {
        let fd = try checked("open", path) { Glibc.open(path, flags.rawValue | O_CLOEXEC, mode) }
        return FileDescriptor(rawValue: fd)
    }

    public func close() {
        // EINTR on close must not be retried on Linux: the descriptor is already gone.
        _ = Glibc.close(rawValue)
    }

    /// Reads up to `buffer.count` bytes; 0 means end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) -> Result<Int, Errno> {
        syscall { Glibc.read(rawValue, buffer.baseAddress, buffer.count) }
    }

    public func write(_ buffer: UnsafeRawBufferPointer) -> Result<Int, Errno> {
        syscall { Glibc.write(rawValue, buffer.baseAddress, buffer.count) }
    }

    /// Writes every byte, looping over short writes (blocking descriptors only).
    public func writeAll(_ bytes: some Collection<UInt8>) throws(SystemError) {
        let array = Array(bytes)
        var offset = 0
        while offset < array.count {
            let result = array.withUnsafeBytes { raw in
                write(UnsafeRawBufferPointer(rebasing: raw[offset...]))
            }
            switch result {
            case .success(let n): offset += n
            case .failure(let error): throw SystemError("write", errno: error)
            }
        }
    }

    public func writeAll(_ string: String) throws(SystemError) {
        try writeAll(Array(string.utf8))
    }

    /// Reads until end of file (regular files and pipes), with a cap on the total.
    public func readAll(limit: Int = 1 << 30) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(into: $0) }
            switch got {
            case .success(0): return result
            case .success(let n):
                guard result.count + n <= limit else { throw SystemError("read", "(more than \(limit) bytes)", errno: Errno(rawValue: EFBIG)) }
                result.append(contentsOf: chunk[0..<n])
            case .failure(let error): throw SystemError("read", errno: error)
            }
        }
    }

    public func setNonBlocking(_ on: Bool = true) throws(SystemError) {
        let flags = try checked("fcntl(F_GETFL)") { fcntl(rawValue, F_GETFL) }
        let wanted = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK
        _ = try checked("fcntl(F_SETFL)") { fcntl(rawValue, F_SETFL, wanted) }
    }

    public func sync() throws(SystemError) {
        _ = try checked("fsync") { fsync(rawValue) }
    }

    /// Device and inode, as `$JOURNAL_STREAM` names them.
    public func deviceAndInode() -> (device: UInt64, inode: UInt64)? {
        var info = stat()
        guard fstat(rawValue, &info) == 0 else { return nil }
        return (UInt64(info.st_dev), UInt64(info.st_ino))
    }
}
