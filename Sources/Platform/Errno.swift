// Typed errno values and the one funnel every system call goes through (EINTR retried there, nowhere else).
import Glibc

/// An errno value from a failed system call.
public struct Errno: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    public static var current: Errno { Errno(rawValue: errno) }

    public static let interrupted = Errno(rawValue: EINTR)
    public static let wouldBlock = Errno(rawValue: EAGAIN)
    public static let noEntry = Errno(rawValue: ENOENT)
    public static let connectionRefused = Errno(rawValue: ECONNREFUSED)
    public static let addressInUse = Errno(rawValue: EADDRINUSE)
    public static let brokenPipe = Errno(rawValue: EPIPE)
    public static let connectionReset = Errno(rawValue: ECONNRESET)
    public static let badFileDescriptor = Errno(rawValue: EBADF)
    public static let tooManyFiles = Errno(rawValue: EMFILE)
    public static let tooManyFilesSystem = Errno(rawValue: ENFILE)
    public static let notSupported = Errno(rawValue: EOPNOTSUPP)

    public var description: String { String(cString: strerror(rawValue)) }
}

/// A failed operation: what was attempted, on what, and the errno it gave.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    public let operation: String
    public let subject: String?
    public let errno: Errno

    public init(_ operation: String, _ subject: String? = nil, errno: Errno) {
        self.operation = operation
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        if let subject { return "\(operation) \(subject): \(errno)" }
        return "\(operation): \(errno)"
    }
}

/// Runs a system call that returns -1 and sets errno on failure, retrying on EINTR.
@inline(__always)
func syscall<T: FixedWidthInteger>(_ body: () -> T) -> Result<T, Errno> {
    while true {
        let result = body()
        if result != -1 { return .success(result) }
        let error = Errno.current
        if error != .interrupted { return .failure(error) }
    }
}

/// Like `syscall`, but throws a `SystemError` naming the operation.
@inline(__always)
func checked<T: FixedWidthInteger>(_ operation: String, _ subject: String? = nil, _ body: () -> T) throws(SystemError) -> T {
    switch syscall(body) {
    case .success(let value): return value
    case .failure(let error): throw SystemError(operation, subject, errno: error)
    }
}
