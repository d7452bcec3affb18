// epoll, eventfd and signalfd: the readiness primitives the event loop is built on.
import CPlatform
import Glibc

public struct Epoll: Sendable {
    public struct Events: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let readable = Events(rawValue: UInt32(CPLATFORM_EPOLLIN))
        public static let writable = Events(rawValue: UInt32(CPLATFORM_EPOLLOUT))
        public static let error = Events(rawValue: UInt32(CPLATFORM_EPOLLERR))
        public static let hangup = Events(rawValue: UInt32(CPLATFORM_EPOLLHUP))
        public static let peerClosed = Events(rawValue: UInt32(CPLATFORM_EPOLLRDHUP))
        /// Wake only one of several loops waiting on the same descriptor (a shared listener).
        public static let exclusive = Events(rawValue: UInt32(CPLATFORM_EPOLLEXCLUSIVE))
    }

    public let descriptor: FileDescriptor

    public init() throws(SystemError) {
        descriptor = FileDescriptor(rawValue: try checked("epoll_create1") { cplatform_epoll_create() })
    }

    public func add(_ fd: FileDescriptor, events: Events, token: UInt64) throws(SystemError) {
        _ = try checked("epoll_ctl(ADD)") { cplatform_epoll_ctl(descriptor.rawValue, cplatform_epoll_ctl_add(), fd.rawValue, events.rawValue, token) }
    }

    public func modify(_ fd: FileDescriptor, events: Events, token: UInt64) throws(SystemError) {
        _ = try checked("epoll_ctl(MOD)") { cplatform_epoll_ctl(descriptor.rawValue, cplatform_epoll_ctl_mod(), fd.rawValue, events.rawValue, token) }
    }

    public func remove(_ fd: FileDescriptor) {
        _ = cplatform_epoll_ctl(descriptor.rawValue, cplatform_epoll_ctl_del(), fd.rawValue, 0, 0)
    }

    /// Waits up to `timeoutMilliseconds` (-1: forever); fills `events` and returns how many are ready.
    public func wait(into events: UnsafeMutableBufferPointer<cplatform_event>, timeoutMilliseconds: Int32) -> Int {
        let n = cplatform_epoll_wait(descriptor.rawValue, events.baseAddress, Int32(min(events.count, 256)), timeoutMilliseconds)
        return n < 0 ? 0 : Int(n)
    }

    public func close() { descriptor.close() }
}

public typealias EpollEvent = cplatform_event

/// An eventfd used to wake an event loop from another thread.
public struct EventFD: Sendable {
    public let descriptor: FileDescriptor

    public init() throws(SystemError) {
        descriptor = FileDescriptor(rawValue: try checked("eventfd") { cplatform_eventfd() })
    }

    public func signal() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { descriptor.write($0) }
    }

    public func drain() {
        var value: UInt64 = 0
        _ = withUnsafeMutableBytes(of: &value) { descriptor.read(into: $0) }
    }

    public func close() { descriptor.close() }
}

/// Signals delivered through a descriptor instead of asynchronous handlers.
public struct SignalFD: Sendable {
    public let descriptor: FileDescriptor

    /// Blocks `signals` in the calling thread (threads started afterwards inherit the mask) and opens a signalfd.
    public init(signals: [Int32]) throws(SystemError) {
        let fd = try checked("signalfd") { signals.withUnsafeBufferPointer { cplatform_signalfd($0.baseAddress, Int32($0.count)) } }
        descriptor = FileDescriptor(rawValue: fd)
    }

    /// The next pending signal, or nil.
    public func next() -> Int32? {
        let signal = cplatform_signalfd_read(descriptor.rawValue)
        return signal > 0 ? signal : nil
    }

    public func close() { descriptor.close() }
}

public enum Signals {
    public static let hangup = SIGHUP
    public static let terminate = SIGTERM
    public static let interrupt = SIGINT

    public static func ignoreBrokenPipe() {
        signal(SIGPIPE, SIG_IGN)
    }

    public static func send(_ signal: Int32, to pid: Int32) -> Bool {
        kill(pid, signal) == 0
    }
}
