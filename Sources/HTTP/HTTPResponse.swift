// A complete response and its wire form; errors in OpenAI's JSON error shape.

public struct HTTPResponse: Sendable {
    public var status: HTTPStatus
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: HTTPStatus, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public static func json(_ status: HTTPStatus, _ text: String, headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        var all = headers
        all.set("Content-Type", "application/json")
        return HTTPResponse(status: status, headers: all, body: Array(text.utf8))
    }

    public static func text(_ status: HTTPStatus, _ text: String, contentType: String = "text/plain; charset=utf-8") -> HTTPResponse {
        HTTPResponse(status: status, headers: HTTPHeaders([("Content-Type", contentType)]), body: Array(text.utf8))
    }

    /// `{"error":{"message":..., "type":..., "code":...}}`; `type` defaults from the status class.
    public static func error(_ status: HTTPStatus, _ message: String, type: String? = nil, code: String? = nil,
                             headers: HTTPHeaders = HTTPHeaders()) -> HTTPResponse {
        let kind = type ?? (status.code >= 500 ? "server_error" : "invalid_request_error")
        let codeText = code.map(JSONText.quote) ?? "null"
        let body = "{\"error\":{\"message\":\(JSONText.quote(message)),\"type\":\(JSONText.quote(kind)),\"code\":\(codeText)}}"
        return json(status, body, headers: headers)
    }

    /// The status line and headers, with Content-Length or chunked framing added, ending in the blank line.
    /// An HTTP/1.0 client is told when the connection stays open (its default is to close); a stream to it has
    /// no chunked coding, the close ends it.
    func serializedHead(contentLength: Int?, keepAlive: Bool, version: HTTPVersion = .http1_1) -> [UInt8] {
        var text = "HTTP/1.1 \(status.code) \(status.reason)\r\n"
        for field in headers.fields {
            text += "\(field.name): \(field.value)\r\n"
        }
        if let contentLength {
            text += "Content-Length: \(contentLength)\r\n"
        } else if version != .http1_0 {
            text += "Transfer-Encoding: chunked\r\n"
        }
        if !keepAlive {
            text += "Connection: close\r\n"
        } else if version == .http1_0 {
            text += "Connection: keep-alive\r\n"
        }
        text += "\r\n"
        return Array(text.utf8)
    }
}

/// JSON string quoting for the few bodies the HTTP layer writes itself.
public enum JSONText {
    public static func quote(_ string: String) -> String {
        var out = "\""
        out.reserveCapacity(string.utf8.count + 2)
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}
