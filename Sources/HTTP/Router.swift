// Maps method and path to handlers; unknown paths get 404 and known paths with another method 405, as JSON.

public struct Router: Sendable {
    public struct Route: Sendable {
        public let method: HTTPMethod
        public let path: String
        /// A label for metrics: the route's path, so that unknown paths do not create label values without bound.
        public var label: String { path }
        let handler: HTTPHandler
    }

    private var routes: [String: [Route]] = [:]

    public init() {}

    public mutating func add(_ method: HTTPMethod, _ path: String, _ handler: @escaping HTTPHandler) {
        routes[path, default: []].append(Route(method: method, path: path, handler: handler))
    }

    public enum Match: Sendable {
        case found(Route)
        case methodNotAllowed(allowed: [HTTPMethod])
        case notFound
    }

    /// HEAD is served by the GET route of the same path.
    public func match(_ request: HTTPRequest) -> Match {
        guard let candidates = routes[String(request.path)] else { return .notFound }
        let method = request.method == .head ? .get : request.method
        if let route = candidates.first(where: { $0.method == method }) { return .found(route) }
        return .methodNotAllowed(allowed: candidates.map(\.method))
    }

    /// Dispatches a request, answering 404 / 405 itself.
    public func handle(_ request: HTTPRequest, _ writer: ResponseWriter) {
        handle(match(request), request, writer)
    }

    /// Dispatches a request already matched (a caller that needed the match first does not match twice).
    public func handle(_ match: Match, _ request: HTTPRequest, _ writer: ResponseWriter) {
        switch match {
        case .found(let route):
            route.handler(request, writer)
        case .methodNotAllowed(let allowed):
            var headers = HTTPHeaders()
            headers.add("Allow", allowed.map(\.rawValue).joined(separator: ", "))
            writer.respond(.error(.methodNotAllowed, "method \(request.method.rawValue) is not allowed on \(request.path)", headers: headers))
        case .notFound:
            writer.respond(.error(.notFound, "no route for \(request.path)", code: "not_found"))
        }
    }
}
