import Foundation
import Platform
import TestKit
import XCTest
@testable import HTTP

/// Drives a real HTTPServer on a temporary Unix socket from the outside, with raw bytes and with HTTPClient.
final class HTTPServerTests: XCTestCase {
    private var directory = ""
    private var socketPath = ""
    private var server: HTTPServer?
    private var thread: Thread?
    private let finished = DispatchSemaphore(value: 0)

    private var temporary: TemporaryDirectory?

    override func setUpWithError() throws {
        let temporary = try TemporaryDirectory(prefix: "http")
        self.temporary = temporary
        directory = temporary.root
        socketPath = directory + "/s.sock"
    }

    override func tearDown() {
        if let server {
            server.beginShutdown(deadline: 0)
            _ = finished.wait(timeout: .now() + 5)
        }
        temporary?.remove()
    }

    private func start(_ configuration: HTTPServerConfiguration = HTTPServerConfiguration(), handler: @escaping HTTPHandler = TestRoutes.handle) throws {
        let listener = try UnixSocket.listen(path: socketPath, mode: 0o600)
        let server = try HTTPServer(listener: listener, configuration: configuration, handler: handler)
        self.server = server
        let done = finished
        let thread = Thread {
            server.run()
            listener.close()
            done.signal()
        }
        thread.start()
        self.thread = thread
    }

    private func connect() throws -> RawConnection { try RawConnection(path: socketPath) }

    func testKeepAliveTwoHundredRequestsOnOneConnection() throws {
        try start()
        let client = try HTTPClient(socketPath: socketPath)
        for i in 0..<200 {
            let response = try client.send(.get, "/echo?n=\(i)")
            XCTAssertEqual(response.status, 200)
            XCTAssertEqual(response.text, "/echo?n=\(i)")
        }
    }

    func testPipelinedRequestsAnsweredInOrderEvenWhenAsync() throws {
        try start()
        let connection = try connect()
        var text = ""
        for i in 0..<30 { text += "GET \(i % 3 == 0 ? "/async" : "/echo")?n=\(i) HTTP/1.1\r\nHost: x\r\n\r\n" }
        try connection.send(text)
        let responses = try connection.readResponses(count: 30)
        XCTAssertEqual(responses.map(\.body), (0..<30).map { "\($0 % 3 == 0 ? "/async" : "/echo")?n=\($0)" })
    }

    func testChunkedRequestAndExpectContinue() throws {
        try start()
        let connection = try connect()
        try connection.send("POST /body HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3\r\nefg\r\n0\r\n\r\n")
        XCTAssertEqual(try connection.readResponses(count: 1).first?.body, "abcdefg")
        try connection.send("POST /body HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
        let interim = try connection.readUntil("\r\n\r\n")
        XCTAssertEqual(interim, "HTTP/1.1 100 Continue\r\n\r\n")
        try connection.send("12345")
        XCTAssertEqual(try connection.readResponses(count: 1).first?.body, "12345")
    }

    func testStreamingAndServerSentEvents() throws {
        try start()
        let client = try HTTPClient(socketPath: socketPath)
        var chunks: [String] = []
        let head = try client.stream(.get, "/sse") { chunk in
            chunks.append(String(decoding: chunk, as: UTF8.self))
            return true
        }
        XCTAssertEqual(head.status, 200)
        XCTAssertEqual(head.headers["Content-Type"], "text/event-stream")
        XCTAssertEqual(chunks, ["data: 0\n\n", "data: 1\n\n", "data: line one\ndata: line two\n\n", "data: [DONE]\n\n"])
        // The connection is reusable after the stream.
        XCTAssertEqual(try client.send(.get, "/echo").text, "/echo")
    }

    func testErrorStatusesAndTheServerKeepsServing() throws {
        try start(HTTPServerConfiguration(limits: HTTPLimits(maxHeaderBytes: 16384, maxBodyBytes: 1000)))
        let cases: [(String, Int)] = [
            ("GARBAGE GARBAGE\r\n\r\n", 400),
            ("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 200_000) + "\r\n\r\n", 431),
            ("POST /body HTTP/1.1\r\nContent-Length: 5000\r\n\r\n", 413),
            ("PROPFIND / HTTP/1.1\r\n\r\n", 501),
            ("GET /nowhere HTTP/1.1\r\n\r\n", 404),
            ("POST /echo HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405),
        ]
        for (request, status) in cases {
            let connection = try connect()
            try? connection.send(request)
            let response = try connection.readResponses(count: 1).first
            XCTAssertEqual(response?.status, status, request.prefix(40).description)
            XCTAssertTrue(response?.body.hasPrefix("{\"error\":{\"message\":") ?? false, response?.body ?? "")
        }
        XCTAssertEqual(try HTTPClient(socketPath: socketPath).send(.get, "/echo").status, 200)
    }

    func testSlowClientGets408AndIdleClientIsClosed() throws {
        try start(HTTPServerConfiguration(requestTimeout: 1, idleTimeout: 1.5))
        let slow = try connect()
        try slow.send("GET /echo HTTP/1.1\r\nHost: x\r\n")
        let idle = try connect()
        let response = try slow.readResponses(count: 1).first
        XCTAssertEqual(response?.status, 408)
        XCTAssertTrue(try idle.readToEnd(timeout: 5).isEmpty, "idle connection should be closed without a response")
    }

    func testThousandIdleConnectionsStayBounded() throws {
        try start()
        let before = ProcessStats.residentMemoryBytes()
        var connections: [RawConnection] = []
        for _ in 0..<1000 { connections.append(try connect()) }
        let probe = try HTTPClient(socketPath: socketPath)
        XCTAssertEqual(try probe.send(.get, "/echo").status, 200)
        XCTAssertEqual(server?.openConnections, 1001)
        let grown = ProcessStats.residentMemoryBytes() - before
        // Client and server side both live in this process: well under 64 KiB per connection pair.
        XCTAssertLessThan(grown, 64 << 20, "resident memory grew by \(grown) bytes for 1000 idle connections")
        // Each still works.
        try connections[500].send("GET /echo?x HTTP/1.1\r\n\r\n")
        XCTAssertEqual(try connections[500].readResponses(count: 1).first?.body, "/echo?x")
        connections.removeAll()
    }

    func testShutdownLetsTheRequestInFlightFinish() throws {
        try start()
        let connection = try connect()
        try connection.send("GET /async?delay=0.5 HTTP/1.1\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.1)
        server?.beginShutdown(deadline: 5)
        let response = try connection.readResponses(count: 1).first
        XCTAssertEqual(response?.status, 200)
        XCTAssertEqual(response?.headers["connection"], "close")
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        server = nil
        XCTAssertThrowsError(try HTTPClient(socketPath: socketPath).send(.get, "/echo"))
    }

    func testDisconnectCancelsTheWriter() throws {
        let cancelled = DispatchSemaphore(value: 0)
        try start { request, writer in
            writer.onFinish { status in if status == 499 { cancelled.signal() } }
            DispatchQueue.global().async {
                while !writer.isCancelled { Thread.sleep(forTimeInterval: 0.01) }
            }
        }
        let connection = try connect()
        try connection.send("GET /hang HTTP/1.1\r\n\r\n")
        Thread.sleep(forTimeInterval: 0.1)
        connection.close()
        XCTAssertEqual(cancelled.wait(timeout: .now() + 5), .success)
    }

    /// Every way a response can end — hang-ups in each phase, half-closes, handlers that answer after the client
    /// left — releases the connection, and the loop idles afterwards instead of spinning on the dead descriptor.
    func testEveryWayAConnectionEndsReleasesItAndTheLoopIdles() throws {
        let late = DispatchSemaphore(value: 0)
        try start { request, writer in
            switch request.path {
            case "/stream":
                // A generation-like stream: chunks until the client leaves, then an end nobody reads.
                DispatchQueue.global().async {
                    writer.beginEventStream()
                    while writer.writeEvent("token") { Thread.sleep(forTimeInterval: 0.01) }
                    writer.end()
                }
            case "/never":
                // A handler that gives up silently once cancelled (a request dropped while queued).
                DispatchQueue.global().async { while !writer.isCancelled { Thread.sleep(forTimeInterval: 0.01) } }
            case "/late":
                // Answers after the client has gone.
                DispatchQueue.global().async {
                    while !writer.isCancelled { Thread.sleep(forTimeInterval: 0.01) }
                    writer.respond(.text(.ok, "too late"))
                    late.signal()
                }
            default:
                TestRoutes.handle(request, writer)
            }
        }
        for path in ["/stream", "/never", "/late", "/async?delay=0.3"] {
            let connection = try connect()
            try connection.send("GET \(path) HTTP/1.1\r\n\r\n")
            if path == "/stream" { _ = try connection.readUntil("data: token") }
            Thread.sleep(forTimeInterval: 0.05)
            connection.close()
        }
        XCTAssertEqual(late.wait(timeout: .now() + 5), .success)
        // A half-close still gets its answers (pipelined, one of them late), then the server closes.
        let halfClosed = try connect()
        try halfClosed.send("GET /async?delay=0.2 HTTP/1.1\r\n\r\nGET /echo?b HTTP/1.1\r\n\r\n")
        halfClosed.shutdownWrite()
        let answered = String(decoding: try halfClosed.readToEnd(timeout: 5), as: UTF8.self)
        XCTAssertTrue(answered.contains("/async?delay=0.2") && answered.contains("/echo?b"), answered)
        let deadline = Date().addingTimeInterval(5)
        while server?.openConnections != 0 && Date() < deadline { Thread.sleep(forTimeInterval: 0.02) }
        XCTAssertEqual(server?.openConnections, 0, "connections whose clients left are still open")
        Thread.sleep(forTimeInterval: 0.4)  // let the late /async answer arrive for its closed connection
        let before = ProcessStats.cpuSeconds()
        Thread.sleep(forTimeInterval: 1)
        let used = ProcessStats.cpuSeconds() - before
        XCTAssertLessThan(used, 0.2, "the idle server used \(used) s of CPU in one second")
        XCTAssertEqual(try HTTPClient(socketPath: socketPath).send(.get, "/echo").text, "/echo")
    }

    func testHTTP10KeepAliveIsAnnouncedAndItsStreamsAreNotChunked() throws {
        try start()
        let connection = try connect()
        try connection.send("GET /echo?a HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let first = try connection.readResponses(count: 1).first
        XCTAssertEqual(first?.headers["connection"], "keep-alive")
        XCTAssertEqual(first?.body, "/echo?a")
        // Still open: a stream on it is delimited by the close, not chunked.
        try connection.send("GET /sse HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        let raw = String(decoding: try connection.readToEnd(timeout: 5), as: UTF8.self)
        XCTAssertTrue(raw.lowercased().contains("connection: close"), raw)
        XCTAssertFalse(raw.lowercased().contains("transfer-encoding"), raw)
        XCTAssertTrue(raw.hasSuffix("data: [DONE]\n\n"), raw)
        // Without the header an HTTP/1.0 connection closes after its answer.
        let plain = try connect()
        try plain.send("GET /echo HTTP/1.0\r\n\r\n")
        XCTAssertTrue(String(decoding: try plain.readToEnd(timeout: 5), as: UTF8.self).contains("Connection: close"))
    }

    /// A shutdown with only hung-up clients ends at once instead of waiting out its deadline.
    func testShutdownDoesNotWaitForClientsThatLeft() throws {
        try start { _, writer in
            DispatchQueue.global().async { while !writer.isCancelled { Thread.sleep(forTimeInterval: 0.01) } }
        }
        for _ in 0..<3 {
            let connection = try connect()
            try connection.send("GET /never HTTP/1.1\r\n\r\n")
            Thread.sleep(forTimeInterval: 0.05)
            connection.close()
        }
        Thread.sleep(forTimeInterval: 0.1)
        let started = Date()
        server?.beginShutdown(deadline: 30)
        XCTAssertEqual(finished.wait(timeout: .now() + 5), .success)
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        server = nil
    }

    func testPeerCredentialsReachTheHandler() throws {
        let seen = LockedBox<PeerCredentials?>(nil)
        try start { request, writer in
            seen.set(request.peer)
            writer.respond(.text(.ok, "ok"))
        }
        _ = try HTTPClient(socketPath: socketPath).send(.get, "/")
        XCTAssertEqual(seen.get()?.pid, ProcessStats.pid)
        XCTAssertEqual(seen.get()?.uid, ProcessStats.uid)
    }

    func testFuzzedRequestsNeverStopTheServer() throws {
        try start(HTTPServerConfiguration(requestTimeout: 0.5))
        var rng = SplitMix64(seed: 7)
        let seeds = ["GET /echo HTTP/1.1\r\nHost: x\r\n\r\n", "POST /body HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc",
                     "POST /body HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n"].map { Array($0.utf8) }
        for round in 0..<2000 {
            var bytes = seeds[round % 3]
            for _ in 0..<(1 + rng.next() % 3) {
                let position = Int(rng.next() % UInt64(bytes.count))
                if rng.next() % 2 == 0 { bytes[position] = UInt8(truncatingIfNeeded: rng.next()) } else { bytes.insert(UInt8(truncatingIfNeeded: rng.next()), at: position) }
            }
            if round % 10 == 0 { bytes = (0..<Int(rng.next() % 100)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
            let connection = try connect()
            try? connection.sendBytes(bytes)
            connection.shutdownWrite()
            _ = try? connection.readToEnd(timeout: 3)
            if round % 250 == 0 {
                XCTAssertEqual(try HTTPClient(socketPath: socketPath).send(.get, "/echo").text, "/echo", "round \(round)")
            }
        }
        XCTAssertEqual(try HTTPClient(socketPath: socketPath).send(.get, "/echo").text, "/echo")
    }
}

/// The handler the server tests use.
enum TestRoutes {
    static func handle(_ request: HTTPRequest, _ writer: ResponseWriter) {
        switch request.path {
        case "/echo" where request.method == .get:
            writer.respond(.text(.ok, request.target))
        case "/echo":
            writer.respond(.error(.methodNotAllowed, "GET only"))
        case "/body":
            writer.respond(HTTPResponse(status: .ok, body: request.body))
        case "/async":
            let delay = Double(request.queryValue("delay") ?? "") ?? Double.random(in: 0...0.01)
            DispatchQueue.global().asyncAfter(deadline: .now() + delay) { writer.respond(.text(.ok, request.target)) }
        case "/sse":
            DispatchQueue.global().async {
                writer.beginEventStream()
                writer.writeEvent("0")
                writer.writeEvent("1")
                writer.writeEvent("line one\nline two")
                writer.writeEvent("[DONE]")
                writer.end()
            }
        default:
            writer.respond(.error(.notFound, "no route for \(request.path)"))
        }
    }
}

final class LockedBox<T>: @unchecked Sendable {
    private var value: T
    private let lock = NSLock()
    init(_ value: T) { self.value = value }
    func set(_ new: T) { lock.lock(); value = new; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}
