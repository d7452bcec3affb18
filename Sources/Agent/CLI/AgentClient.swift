// The CLI's side of the socket: one request to a running agent, with one-line reasons when it fails.
import FoundationEssentials
import HTTP
import Platform

public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct AgentClient {
    public static let defaultSocket = "/run/outpost/outpost.sock"
    public let socketPath: String

    /// `--socket`, else `$OUTPOST_SOCKET`, else the default path.
    public init(socketOption: String?) {
        socketPath = socketOption ?? ProcessStats.environment("OUTPOST_SOCKET") ?? Self.defaultSocket
    }

    public func get(_ target: String) throws(CLIError) -> HTTPClientResponse {
        let client: HTTPClient
        do {
            client = try HTTPClient(socketPath: socketPath)
        } catch {
            throw CLIError("cannot reach the agent at \(socketPath): \(Self.reason(error)); is outpostd running?")
        }
        let response: HTTPClientResponse
        do {
            response = try client.send(.get, target)
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
