// The CLI's side of the socket: one request to a running agent, with one-line reasons when it fails.
import FoundationEssentials
import HTTP
import Platform

public struct AgentClient {
    public static let defaultSocket = "/run/outpost/outpost.sock"
    /// The longest path a Unix socket address holds.
    public static let maxSocketPathLength = UnixSocket.maxPathLength
    public let socketPath: String

    /// `--socket`, else `$OUTPOST_SOCKET`, else the default path.
    public init(socketOption: String?) {
        socketPath = socketOption ?? ProcessStats.environment("OUTPOST_SOCKET") ?? Self.defaultSocket
    }

    public func get(_ target: String) throws(CLIError) -> HTTPClientResponse {
        try send(.get, target, body: [])
    }

    /// POSTs JSON; with `onEvent`, reads an SSE stream and hands each event's data to it.
    public func post(_ target: String, json: String, onEvent: ((String) -> Void)? = nil) throws(CLIError) -> HTTPClientResponse {
        try send(.post, target, body: Array(json.utf8), onEvent: onEvent)
    }

    func send(_ method: HTTPMethod, _ target: String, body: [UInt8], onEvent: ((String) -> Void)? = nil) throws(CLIError) -> HTTPClientResponse {
        let client: HTTPClient
        do {
            client = try HTTPClient(socketPath: socketPath)
        } catch {
            throw CLIError("cannot reach the agent at \(socketPath): \(Self.reason(error)); is outpostd running?")
        }
        var headers = HTTPHeaders()
        if method == .post { headers.add("Content-Type", "application/json") }
        let response: HTTPClientResponse
        do {
            if let onEvent {
                var pending: [UInt8] = []
                var collected: [UInt8] = []
                let head = try client.stream(method, target, headers: headers, body: body) { chunk in
                    collected += chunk
                    pending += chunk
                    // Events end with a blank line; each `data: ` line of an event is handed on.
                    while let end = pending.indices.dropLast().first(where: { pending[$0] == 10 && pending[$0 + 1] == 10 }) {
                        let event = String(decoding: pending[..<end], as: UTF8.self)
                        pending.removeFirst(end + 2)
                        for line in event.split(separator: "\n") where line.hasPrefix("data: ") {
                            onEvent(String(line.dropFirst(6)))
                        }
                    }
                    return true
                }
                response = HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: collected)
            } else {
                response = try client.send(method, target, headers: headers, body: body)
            }
        } catch {
            throw CLIError("the agent at \(socketPath) did not answer: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            throw CLIError("the agent refused \(target): \(response.status) \(Self.errorMessage(response))")
        }
        return response
    }

    static func reason(_ error: HTTPClientError) -> String {
        if case .connect(.system(let system)) = error { return system.errno.description.lowercased() }
        return error.description
    }

    /// The message of an OpenAI-style error body, or the raw body.
    static func errorMessage(_ response: HTTPClientResponse) -> String {
        struct Body: Decodable {
            struct Inner: Decodable { let message: String }
            let error: Inner
        }
        guard let body = try? JSONDecoder().decode(Body.self, from: Data(response.body)) else { return response.text }
        return body.error.message
    }
}
