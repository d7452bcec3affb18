// One parsed request, with the identity of the process that sent it.
import Platform

public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    /// The request-target exactly as sent.
    public var target: String
    public var version: HTTPVersion
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// The body, when an `UploadPolicy` sent it to a file instead of `body`.
    public var upload: UploadedBody?
    /// SO_PEERCRED of the connection; nil only for requests built in tests.
    public var peer: PeerCredentials?

    public init(method: HTTPMethod, target: String, version: HTTPVersion = .http1_1, headers: HTTPHeaders = HTTPHeaders(),
                body: [UInt8] = [], peer: PeerCredentials? = nil) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.peer = peer
    }

    /// The path part of the target (before any `?`).
    public var path: Substring {
        target.firstIndex(of: "?").map { target[..<$0] } ?? target[...]
    }

    /// The query part of the target (after `?`), if any.
    public var query: Substring? {
        target.firstIndex(of: "?").map { target[target.index(after: $0)...] }
    }

    /// The value of query parameter `name` (no percent-decoding: our parameters are plain tokens).
    public func queryValue(_ name: String) -> Substring? {
        guard let query else { return nil }
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if parts[0] == name { return parts.count > 1 ? parts[1] : "" }
        }
        return nil
    }

    /// Whether the connection stays open after this request (HTTP/1.1 default yes, HTTP/1.0 default no).
    public var wantsKeepAlive: Bool {
        if headers.contains("Connection", token: "close") { return false }
        if version == .http1_0 { return headers.contains("Connection", token: "keep-alive") }
        return true
    }
}
