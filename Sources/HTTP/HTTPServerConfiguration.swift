// What an HTTPServer enforces on its clients.

public struct HTTPServerConfiguration: Sendable, Equatable {
    public var limits: HTTPLimits
    public var maxConnections: Int
    /// Seconds from the first byte of a request to its last; slower clients get 408 and are closed.
    public var requestTimeout: Double
    /// Seconds an idle keep-alive connection is kept.
    public var idleTimeout: Double

    public init(limits: HTTPLimits = HTTPLimits(), maxConnections: Int = 4096, requestTimeout: Double = 10, idleTimeout: Double = 75) {
        self.limits = limits
        self.maxConnections = maxConnections
        self.requestTimeout = requestTimeout
        self.idleTimeout = idleTimeout
    }
}

/// Handlers run on the server's loop thread: answer at once, or hand the writer to another thread for slow work.
public typealias HTTPHandler = @Sendable (HTTPRequest, ResponseWriter) -> Void
