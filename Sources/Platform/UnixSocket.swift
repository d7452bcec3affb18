// AF_UNIX stream sockets: listening safely on a path, connecting, accepting, and the peer's credentials.
import CPlatform
import Glibc

/// Who is on the other end of a Unix socket, as the kernel says (SO_PEERCRED), not as the client claims.
public struct PeerCredentials: Equatable, Hashable, Sendable {
    public let pid: Int32
    public let uid: UInt32
    public let gid: UInt32
    public init(pid: Int32, uid: UInt32, gid: UInt32) {
        self.pid = pid
        self.uid = uid
        self.gid = gid
    }
}

public enum UnixSocketError: Error, Equatable, Sendable, CustomStringConvertible {
    case pathTooLong(String, limit: Int)
    case alreadyServed(String)
    case notASocket(String)
    case system(SystemError)

    public var description: String {
        switch self {
        case .pathTooLong(let path, let limit):
            return "socket path \(path) is longer than \(limit) bytes"
        case .alreadyServed(let path):
            return "another process is already listening on \(path); refusing to take it over"
        case .notASocket(let path):
            return "\(path) exists and is not a socket; refusing to remove it"
        case .system(let error):
            return error.description
        }
    }
}

public enum UnixSocket {
    /// sun_path holds 108 bytes including the terminating NUL.
    public static let maxPathLength = 107

    /// Binds and listens on `path` with permission bits `mode`.
    /// A socket file left by a dead process is removed; one that a live process answers on is never taken.
    public static func listen(path: String, mode: UInt32, backlog: Int32 = 1024) throws(UnixSocketError) -> FileDescriptor {
        try removeIfStale(path)
        let fd: Int32
        do {
            fd = try checked("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        } catch { throw .system(error) }
        let descriptor = FileDescriptor(rawValue: fd)
        do {
            // Create the node with no group/other access, then widen it: no moment where it is more open than asked.
            let oldMask = umask(0o177)
            let bound = withAddress(path) { address, length in Glibc.bind(fd, address, length) }
            umask(oldMask)
            guard let bound else { throw UnixSocketError.pathTooLong(path, limit: maxPathLength) }
            if bound != 0 {
                let error = Errno.current
                if error == .addressInUse { throw UnixSocketError.alreadyServed(path) }
                throw UnixSocketError.system(SystemError("bind", path, errno: error))
            }
            _ = try checked("chmod", path) { chmod(path, mode_t(mode)) }
            _ = try checked("listen", path) { Glibc.listen(fd, backlog) }
            return descriptor
        } catch let error as UnixSocketError {
            descriptor.close()
            throw error
        } catch let error as SystemError {
            descriptor.close()
            throw .system(error)
        } catch {
            descriptor.close()
            throw .system(SystemError("listen", path, errno: Errno(rawValue: EINVAL)))
        }
    }

    /// Connects a blocking stream socket to `path`.
    public static func connect(path: String) throws(UnixSocketError) -> FileDescriptor {
        let fd: Int32
        do {
            fd = try checked("socket") { socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        } catch { throw .system(error) }
        let result: Result<Int32, Errno>? = withAddress(path) { address, length in
            syscall { Glibc.connect(fd, address, length) }
        }
        switch result {
        case nil:
            Glibc.close(fd)
            throw .pathTooLong(path, limit: maxPathLength)
        case .failure(let error)?:
            Glibc.close(fd)
            throw .system(SystemError("connect", path, errno: error))
        case .success?:
            return FileDescriptor(rawValue: fd)
        }
    }

    /// Accepts one pending connection as a non-blocking descriptor; `nil` when none is pending.
    public static func accept(_ listener: FileDescriptor) -> Result<FileDescriptor?, Errno> {
        switch syscall({ cplatform_accept_nonblocking(listener.rawValue) }) {
        case .success(let fd): return .success(FileDescriptor(rawValue: fd))
        case .failure(let error) where error == .wouldBlock: return .success(nil)
        case .failure(let error): return .failure(error)
        }
    }

    public static func peerCredentials(_ fd: FileDescriptor) -> PeerCredentials? {
        var pid: Int32 = 0
        var uid: UInt32 = 0
        var gid: UInt32 = 0
        guard cplatform_peer_credentials(fd.rawValue, &pid, &uid, &gid) == 0 else { return nil }
        return PeerCredentials(pid: pid, uid: uid, gid: gid)
    }

    /// True when `fd` is a listening AF_UNIX stream socket (checked on descriptors systemd passes in).
    public static func isListeningUnixStream(_ fd: FileDescriptor) -> Bool {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd.rawValue, SOL_SOCKET, SO_ACCEPTCONN, &value, &length) == 0, value == 1 else { return false }
        guard getsockopt(fd.rawValue, SOL_SOCKET, SO_DOMAIN, &value, &length) == 0, value == AF_UNIX else { return false }
        return true
    }

    public static func shutdownWrite(_ fd: FileDescriptor) {
        _ = Glibc.shutdown(fd.rawValue, Int32(SHUT_WR))
    }

    /// Removes the socket file at `path` (ours, on shutdown); anything that is not a socket is left alone.
    public static func removeSocketFile(_ path: String) {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_mode & S_IFMT == S_IFSOCK else { return }
        unlink(path)
    }

    /// Removes `path` if it is a socket nobody answers on.
    static func removeIfStale(_ path: String) throws(UnixSocketError) {
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        guard info.st_mode & S_IFMT == S_IFSOCK else { throw .notASocket(path) }
        let probe: FileDescriptor
        do {
            probe = try connect(path: path)
        } catch .system(let error) where error.errno == .connectionRefused {
            if unlink(path) != 0 && errno != ENOENT {
                throw .system(SystemError("unlink", path, errno: .current))
            }
            return
        } catch .system(let error) where error.errno == .noEntry {
            return
        } catch {
            throw error
        }
        probe.close()
        throw .alreadyServed(path)
    }

    private static func withAddress<T>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> T) -> T? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard !bytes.isEmpty, bytes.count <= maxPathLength else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                body($0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
    }
}
