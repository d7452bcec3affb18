// An HTTP/1.1 server over a listening stream socket: one epoll loop on the calling thread, keep-alive and
// pipelining answered in order, limits and timeouts, graceful shutdown. Handlers may answer from any thread.
import Platform
import Synchronization

public final class HTTPServer: @unchecked Sendable {
    // Everything below except `mailbox`, `openConnectionCount` and `loopThread` is touched only on the loop thread;
    // that is why the class can be @unchecked Sendable.
    private let configuration: HTTPServerConfiguration
    private let handler: HTTPHandler
    private let listener: FileDescriptor
    private let epoll: Epoll
    private let wakeup: EventFD
    private var connections: [UInt64: HTTPConnection] = [:]
    private var nextToken: UInt64 = firstConnectionToken
    private var watched: [UInt64: (FileDescriptor, () -> Void)] = [:]
    private var listening = true
    private var acceptPausedUntil: Double = 0
    private var shuttingDown = false
    private var shutdownDeadline = Double.infinity
    private var nextSweep: Double = 0
    private var readBuffer = [UInt8](repeating: 0, count: 65536)

    private let mailbox = Mutex<[(ResponseWriter, ResponseWriter.Operation)]>([])
    private let pendingShutdown = Mutex<Double?>(nil)
    private let openConnectionCount = Atomic<Int>(0)
    private let loopThread = Atomic<UInt>(0)

    /// Called on the loop thread after every wake-up and at least every `tickInterval` seconds.
    public var onTick: (() -> Void)?
    public var tickInterval: Double = 1
    /// Called on the loop thread when the server itself answers a broken request (400, 408, 413, 431, 501, ...).
    public var onProtocolError: ((HTTPStatus) -> Void)?
    /// Request bodies that go to a file (set before `run`).
    public var uploads: UploadPolicy?

    private static let listenerToken: UInt64 = 0
    private static let wakeupToken: UInt64 = 1
    private static let firstWatchToken: UInt64 = 2
    private static let firstConnectionToken: UInt64 = 1 << 20

    public init(listener: FileDescriptor, configuration: HTTPServerConfiguration, handler: @escaping HTTPHandler) throws(SystemError) {
        self.listener = listener
        self.configuration = configuration
        self.handler = handler
        epoll = try Epoll()
        wakeup = try EventFD()
        try listener.setNonBlocking()
        try epoll.add(listener, events: .readable, token: Self.listenerToken)
        try epoll.add(wakeup.descriptor, events: .readable, token: Self.wakeupToken)
    }

    deinit {
        epoll.close()
        wakeup.close()
    }

    public var openConnections: Int { openConnectionCount.load(ordering: .relaxed) }

    /// Calls `onReadable` on the loop thread whenever `fd` is readable (signalfd, timers). Call before `run`.
    public func watch(_ fd: FileDescriptor, onReadable: @escaping () -> Void) throws(SystemError) {
        let token = Self.firstWatchToken + UInt64(watched.count)
        precondition(token < Self.firstConnectionToken, "too many watched descriptors")
        try epoll.add(fd, events: .readable, token: token)
        watched[token] = (fd, onReadable)
    }

    /// Stops accepting, closes idle connections, lets requests in flight finish, and makes `run` return once
    /// all connections are closed or `deadline` seconds have passed. Safe from any thread.
    public func beginShutdown(deadline seconds: Double) {
        pendingShutdown.withLock { $0 = seconds }
        wakeup.signal()
    }

    /// Serves until a shutdown completes.
    public func run() {
        loopThread.store(Threads.currentID(), ordering: .releasing)
        defer { loopThread.store(0, ordering: .releasing) }
        let events = UnsafeMutableBufferPointer<EpollEvent>.allocate(capacity: 256)
        defer { events.deallocate() }
        while true {
            applyMailbox()
            applyPendingShutdown()
            let now = Self.now()
            if shuttingDown && (connections.isEmpty || now >= shutdownDeadline) { break }
            var timeout = min(tickInterval, max(0, nextSweep - now))
            if shuttingDown { timeout = min(timeout, max(0, shutdownDeadline - now)) }
            if acceptPausedUntil > now { timeout = min(timeout, acceptPausedUntil - now) }
            let count = epoll.wait(into: events, timeoutMilliseconds: Int32((timeout * 1000).rounded(.up)))
            for index in 0..<count {
                let event = events[index]
                switch event.data {
                case Self.listenerToken: acceptConnections()
                case Self.wakeupToken: wakeup.drain()
                case let token where token < Self.firstConnectionToken: watched[token]?.1()
                default: handleEvent(token: event.data, events: Epoll.Events(rawValue: event.events))
                }
            }
            let after = Self.now()
            if listening && acceptPausedUntil != 0 && after >= acceptPausedUntil {
                acceptPausedUntil = 0
                try? epoll.add(listener, events: .readable, token: Self.listenerToken)
            }
            if after >= nextSweep {
                sweep(now: after)
                nextSweep = after + 1
            }
            onTick?()
        }
        for connection in Array(connections.values) { close(connection) }
    }

    // MARK: - Handler replies

    /// Queues an operation from a writer; applied at once when already on the loop thread.
    func submit(_ writer: ResponseWriter, _ operation: ResponseWriter.Operation) {
        if loopThread.load(ordering: .acquiring) == Threads.currentID() {
            apply(writer, operation)
            return
        }
        let wasEmpty = mailbox.withLock { box -> Bool in
            box.append((writer, operation))
            return box.count == 1
        }
        if wasEmpty { wakeup.signal() }
    }

    private func applyMailbox() {
        let operations = mailbox.withLock { box -> [(ResponseWriter, ResponseWriter.Operation)] in
            let taken = box
            box.removeAll(keepingCapacity: true)
            return taken
        }
        for (writer, operation) in operations { apply(writer, operation) }
    }

    private func apply(_ writer: ResponseWriter, _ operation: ResponseWriter.Operation) {
        guard let connection = connections[writer.connection], connection.sequence == writer.sequence else { return }
        switch (operation, connection.phase) {
        case (.respond(let response), .handling(let keepAlive, let isHead)):
            let keep = keepAlive && !shuttingDown
            connection.output += response.serializedHead(contentLength: response.body.count, keepAlive: keep, version: connection.version)
            if !isHead { connection.output += response.body }
            completeResponse(connection, keepAlive: keep)
        case (.beginStream(let response), .handling(let keepAlive, let isHead)):
            // HTTP/1.0 has no chunked coding: the stream's end is the connection's end.
            let chunked = connection.version != .http1_0
            let keep = keepAlive && chunked && !shuttingDown
            connection.output += response.serializedHead(contentLength: nil, keepAlive: keep, version: connection.version)
            connection.phase = .streaming(keepAlive: keep, isHead: isHead, chunked: chunked)
            flush(connection)
        case (.chunk(let bytes), .streaming(_, let isHead, let chunked)):
            if !isHead && chunked {
                connection.output += Array(String(bytes.count, radix: 16).utf8) + [13, 10]
                connection.output += bytes
                connection.output += [13, 10]
            } else if !isHead {
                connection.output += bytes
            }
            flush(connection)
        case (.end, .streaming(let keepAlive, let isHead, let chunked)):
            if !isHead && chunked { connection.output += [48, 13, 10, 13, 10] }
            completeResponse(connection, keepAlive: keepAlive && !shuttingDown)
        default:
            break
        }
    }

    private func completeResponse(_ connection: HTTPConnection, keepAlive: Bool) {
        connection.writer = nil
        if keepAlive && !connection.peerClosed {
            connection.phase = .reading
            connection.lastActivity = Self.now()
            if !connection.processing { processInput(connection) }
        } else if keepAlive {
            // The peer stopped sending: answer what it already sent, then close.
            connection.phase = .reading
            if !connection.processing { processInput(connection) }
        } else {
            connection.phase = .closing
            if !connection.processing { flush(connection) }
        }
    }

    // MARK: - Connections

    private func acceptConnections() {
        while listening {
            switch UnixSocket.accept(listener) {
            case .success(nil):
                return
            case .success(let fd?):
                guard connections.count < configuration.maxConnections else {
                    // Over the limit: refuse this one politely and keep serving the others.
                    var refusal = HTTPResponse.error(.serviceUnavailable, "too many connections (limit \(configuration.maxConnections))")
                    refusal.headers.add("Retry-After", "1")
                    let bytes = refusal.serializedHead(contentLength: refusal.body.count, keepAlive: false) + refusal.body
                    _ = bytes.withUnsafeBytes { fd.write($0) }
                    fd.close()
                    continue
                }
                let token = nextToken
                nextToken += 1
                let connection = HTTPConnection(fd: fd, token: token, peer: UnixSocket.peerCredentials(fd),
                                                limits: configuration.limits, uploads: uploads, now: Self.now())
                connections[token] = connection
                openConnectionCount.wrappingAdd(1, ordering: .relaxed)
                updateInterest(connection)
            case .failure(let error) where error == .tooManyFiles || error == .tooManyFilesSystem:
                // Out of descriptors: stop accepting for a moment instead of spinning on a readable listener.
                epoll.remove(listener)
                acceptPausedUntil = Self.now() + 0.1
                return
            case .failure:
                return
            }
        }
    }

    private func handleEvent(token: UInt64, events: Epoll.Events) {
        guard let connection = connections[token] else { return }
        // A hang-up means the peer closed both directions: nobody can read an answer any more, so the
        // connection ends here whatever phase it is in (its handler learns through the cancelled writer).
        // A read of zero bytes alone is only a half-close: the answers to what was sent still go out.
        if events.contains(.error) || events.contains(.hangup) {
            close(connection)
            return
        }
        if events.contains(.readable) || events.contains(.peerClosed) {
            readAvailable(connection)
            guard connections[token] != nil else { return }
        }
        if events.contains(.writable) {
            flush(connection)
        }
    }

    private func readAvailable(_ connection: HTTPConnection) {
        var total = 0
        // A budget per wake-up keeps one fast sender from starving the others.
        reading: while total < 1 << 20 && !connection.peerClosed {
            let result = readBuffer.withUnsafeMutableBytes { connection.fd.read(into: $0) }
            switch result {
            case .success(0):
                connection.peerClosed = true
                break reading
            case .success(let n):
                if connection.isReading && connection.requestStartedAt == nil && connection.bufferedInput == 0 {
                    connection.requestStartedAt = Self.now()
                }
                connection.input.append(contentsOf: readBuffer[0..<n])
                total += n
                if n < readBuffer.count { break reading }
            case .failure(let error) where error == .wouldBlock:
                break reading
            case .failure:
                close(connection)
                return
            }
        }
        connection.lastActivity = Self.now()
        if connection.isReading {
            processInput(connection)
        } else {
            updateInterest(connection)
        }
    }

    /// Parses and dispatches buffered requests while the connection is free to take one.
    private func processInput(_ connection: HTTPConnection) {
        connection.processing = true
        defer { connection.processing = false }
        while connection.isReading && connections[connection.token] != nil {
            guard connection.bufferedInput > 0 else { break }
            var consumed = 0
            let parsed = connection.input.withUnsafeBytes { raw in
                Result { () throws(HTTPParseError) -> HTTPParser.Event in
                    try connection.parser.parse(UnsafeRawBufferPointer(rebasing: raw[connection.inputStart...]), consumed: &consumed)
                }
            }
            let event: HTTPParser.Event
            switch parsed {
            case .success(let value):
                event = value
            case .failure(let error):
                connection.inputStart = connection.input.count
                respondToBrokenRequest(connection, status: error.status, message: error.message)
                return
            }
            connection.inputStart += consumed
            switch event {
            case .needMore:
                connection.compactInput()
                if connection.requestStartedAt == nil { connection.requestStartedAt = Self.now() }
                flush(connection)
                return
            case .expectsContinue:
                connection.output += Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
            case .request(var request):
                request.peer = connection.peer
                connection.requestStartedAt = connection.bufferedInput > 0 ? Self.now() : nil
                connection.sequence += 1
                let keepAlive = request.wantsKeepAlive
                connection.version = request.version
                connection.phase = .handling(keepAlive: keepAlive, isHead: request.method == .head)
                let writer = ResponseWriter(loop: self, connection: connection.token, sequence: connection.sequence)
                connection.writer = writer
                handler(request, writer)
            }
        }
        connection.compactInput()
        flush(connection)
    }

    private func respondToBrokenRequest(_ connection: HTTPConnection, status: HTTPStatus, message: String) {
        onProtocolError?(status)
        let response = HTTPResponse.error(status, message)
        connection.output += response.serializedHead(contentLength: response.body.count, keepAlive: false) + response.body
        connection.phase = .closing
        flush(connection)
    }

    /// Writes what it can of the pending output; closes when a closing connection has drained.
    private func flush(_ connection: HTTPConnection) {
        guard connections[connection.token] != nil else { return }
        while connection.pendingOutput > 0 {
            let result = connection.output.withUnsafeBytes { raw in
                connection.fd.write(UnsafeRawBufferPointer(rebasing: raw[connection.outputStart...]))
            }
            switch result {
            case .success(let n):
                connection.outputStart += n
            case .failure(let error) where error == .wouldBlock:
                connection.compactOutput()
                updateInterest(connection)
                return
            case .failure:
                close(connection)
                return
            }
        }
        connection.compactOutput()
        if case .closing = connection.phase {
            UnixSocket.shutdownWrite(connection.fd)
            close(connection)
            return
        }
        if connection.peerClosed && connection.isReading && connection.pendingOutput == 0 {
            // Every complete request has been answered and nothing more can arrive.
            close(connection)
            return
        }
        updateInterest(connection)
    }

    private func updateInterest(_ connection: HTTPConnection) {
        var wanted: Epoll.Events = []
        // Read while a request is being read; while a handler works, read only a little ahead (pipelining)
        // so that a client cannot make us buffer without bound.
        let readAhead = connection.isReading || connection.bufferedInput < 65536
        if readAhead && !connection.peerClosed { wanted.insert(.readable) }
        if !connection.peerClosed { wanted.insert(.peerClosed) }
        if connection.pendingOutput > 0 { wanted.insert(.writable) }
        guard wanted != connection.interest || connection.interest.isEmpty else { return }
        do {
            if connection.interest.isEmpty {
                try epoll.add(connection.fd, events: wanted, token: connection.token)
            } else {
                try epoll.modify(connection.fd, events: wanted, token: connection.token)
            }
            connection.interest = wanted.isEmpty ? .error : wanted
        } catch {
            close(connection)
        }
    }

    private func close(_ connection: HTTPConnection) {
        guard connections.removeValue(forKey: connection.token) != nil else { return }
        connection.writer?.cancel()
        connection.writer = nil
        epoll.remove(connection.fd)
        connection.fd.close()
        openConnectionCount.wrappingSubtract(1, ordering: .relaxed)
    }

    // MARK: - Timeouts and shutdown

    private func sweep(now: Double) {
        for connection in Array(connections.values) {
            guard connection.isReading else { continue }
            if connection.isIdle {
                if shuttingDown || now - connection.lastActivity > configuration.idleTimeout { close(connection) }
            } else if let started = connection.requestStartedAt {
                let limit = connection.parser.isUploading ? (uploads?.timeoutSeconds ?? configuration.requestTimeout) : configuration.requestTimeout
                if now - started > limit {
                    respondToBrokenRequest(connection, status: .requestTimeout, message: "request not received within \(limit) seconds")
                }
            }
        }
    }

    private func applyPendingShutdown() {
        guard let seconds = pendingShutdown.withLock({ value -> Double? in
            defer { value = nil }
            return value
        }) else { return }
        if !shuttingDown {
            shuttingDown = true
            shutdownDeadline = Self.now() + seconds
            if listening {
                listening = false
                epoll.remove(listener)
            }
        }
        sweep(now: Self.now())
    }

    static func now() -> Double {
        Double(Clock.monotonicNanoseconds()) / 1e9
    }
}
