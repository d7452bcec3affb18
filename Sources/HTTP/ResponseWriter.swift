// The handle a request handler answers through, from any thread: a whole response, or a chunked / SSE stream.
import Synchronization

public final class ResponseWriter: Sendable {
    enum Operation: Sendable {
        case respond(HTTPResponse)
        case beginStream(HTTPResponse)
        case chunk([UInt8])
        case end
    }

    private struct State {
        var started = false
        var finished = false
        var cancelled = false
        var status = 200
        var onFinish: (@Sendable (Int) -> Void)?
    }

    let connection: UInt64
    let sequence: UInt64
    private let loop: HTTPServer
    private let state = Mutex(State())

    init(loop: HTTPServer, connection: UInt64, sequence: UInt64) {
        self.loop = loop
        self.connection = connection
        self.sequence = sequence
    }

    /// True once the client has gone away (or the server stopped waiting); long work should stop.
    public var isCancelled: Bool { state.withLock { $0.cancelled } }

    /// Called once with the status code when the response has been handed to the connection in full
    /// (or with 499 when the client went away first).
    public func onFinish(_ body: @escaping @Sendable (Int) -> Void) {
        state.withLock { $0.onFinish = body }
    }

    /// Sends a complete response. Ignored if a response was already started.
    public func respond(_ response: HTTPResponse) {
        guard begin(status: response.status.code) else { return }
        loop.submit(self, .respond(response))
        finish(status: response.status.code)
    }

    /// Starts a chunked response; follow with `write` / `writeEvent` and `end`.
    public func beginStream(status: HTTPStatus = .ok, headers: HTTPHeaders) {
        guard begin(status: status.code) else { return }
        loop.submit(self, .beginStream(HTTPResponse(status: status, headers: headers)))
    }

    /// Starts a Server-Sent-Events stream.
    public func beginEventStream(headers: HTTPHeaders = HTTPHeaders()) {
        var all = headers
        all.set("Content-Type", "text/event-stream")
        all.set("Cache-Control", "no-cache")
        beginStream(status: .ok, headers: all)
    }

    /// Sends one chunk of a stream. Returns false when the client is gone.
    @discardableResult
    public func write(_ bytes: [UInt8]) -> Bool {
        guard !bytes.isEmpty else { return !isCancelled }
        let live = state.withLock { $0.started && !$0.finished && !$0.cancelled }
        if live { loop.submit(self, .chunk(bytes)) }
        return live
    }

    /// Sends one SSE event: `data: <line>` for each line of `data`, then a blank line.
    @discardableResult
    public func writeEvent(_ data: String) -> Bool {
        var text = ""
        for line in data.split(separator: "\n", omittingEmptySubsequences: false) {
            text += "data: \(line)\n"
        }
        text += "\n"
        return write(Array(text.utf8))
    }

    /// Ends a stream.
    public func end() {
        let status = state.withLock { s -> Int? in
            guard s.started && !s.finished else { return nil }
            return s.status
        }
        guard let status else { return }
        loop.submit(self, .end)
        finish(status: status)
    }

    func cancel() {
        let callback = state.withLock { s -> (@Sendable (Int) -> Void)? in
            s.cancelled = true
            guard !s.finished else { return nil }
            s.finished = true
            let f = s.onFinish
            s.onFinish = nil
            return f
        }
        callback?(499)
    }

    private func begin(status: Int) -> Bool {
        state.withLock { s in
            guard !s.started else { return false }
            s.started = true
            s.status = status
            return true
        }
    }

    private func finish(status: Int) {
        let callback = state.withLock { s -> (@Sendable (Int) -> Void)? in
            guard !s.finished else { return nil }
            s.finished = true
            let f = s.onFinish
            s.onFinish = nil
            return f
        }
        callback?(status)
    }
}
