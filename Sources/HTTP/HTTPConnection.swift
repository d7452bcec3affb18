// The state of one client connection; touched only on the loop thread.
import Platform

final class HTTPConnection {
    enum Phase {
        /// Waiting for (more of) a request.
        case reading
        /// A handler owns the current request.
        case handling(keepAlive: Bool, isHead: Bool)
        /// A streamed response is being written: chunked, or for HTTP/1.0 delimited by closing.
        case streaming(keepAlive: Bool, isHead: Bool, chunked: Bool)
        /// The last bytes are being flushed; then the connection closes.
        case closing
    }

    let fd: FileDescriptor
    let token: UInt64
    let peer: PeerCredentials?
    var parser: HTTPParser
    var input: [UInt8] = []
    var inputStart = 0
    var output: [UInt8] = []
    var outputStart = 0
    var phase = Phase.reading
    var sequence: UInt64 = 0
    /// The HTTP version of the request being answered.
    var version = HTTPVersion.http1_1
    var writer: ResponseWriter?
    /// When the first byte of the request being read arrived.
    var requestStartedAt: Double?
    var lastActivity: Double
    var peerClosed = false
    var processing = false
    var interest: Epoll.Events = []

    init(fd: FileDescriptor, token: UInt64, peer: PeerCredentials?, limits: HTTPLimits, uploads: UploadPolicy?, now: Double) {
        self.fd = fd
        self.token = token
        self.peer = peer
        self.parser = HTTPParser(limits: limits, uploads: uploads, peer: peer)
        self.lastActivity = now
    }

    var bufferedInput: Int { input.count - inputStart }
    var pendingOutput: Int { output.count - outputStart }

    var isReading: Bool {
        if case .reading = phase { return true }
        return false
    }

    /// True when nothing of a next request has arrived: the connection may be closed without losing anything.
    var isIdle: Bool { isReading && bufferedInput == 0 && parser.isIdle && pendingOutput == 0 }

    func compactInput() {
        if inputStart == input.count {
            input.removeAll(keepingCapacity: input.capacity <= 65536)
            inputStart = 0
        } else if inputStart > 65536 || inputStart > input.count / 2 {
            input.removeSubrange(0..<inputStart)
            inputStart = 0
        }
    }

    func compactOutput() {
        if outputStart == output.count {
            output.removeAll(keepingCapacity: output.capacity <= 65536)
            outputStart = 0
        } else if outputStart > 65536 {
            output.removeSubrange(0..<outputStart)
            outputStart = 0
        }
    }
}
