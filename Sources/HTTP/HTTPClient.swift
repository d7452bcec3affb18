// A small blocking HTTP/1.1 client over a Unix socket, for the CLI and the tests.
import Platform

public struct HTTPClientResponse: Sendable {
    public let status: Int
    public let reason: String
    public let headers: HTTPHeaders
    public let body: [UInt8]

    public init(status: Int, reason: String, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public enum HTTPClientError: Error, Sendable, CustomStringConvertible {
    case connect(UnixSocketError)
    case io(SystemError)
    case closedEarly
    case malformedResponse(String)

    public var description: String {
        switch self {
        case .connect(let error): return "cannot connect: \(error)"
        case .io(let error): return error.description
        case .closedEarly: return "the server closed the connection before answering in full"
        case .malformedResponse(let what): return "malformed response: \(what)"
        }
    }
}

public final class HTTPClient {
    private let fd: FileDescriptor
    private var buffer: [UInt8] = []
    private var start = 0
    private let maxBody = 1 << 30

    public init(socketPath: String) throws(HTTPClientError) {
        do {
            fd = try UnixSocket.connect(path: socketPath)
        } catch {
            throw .connect(error)
        }
    }

    deinit { fd.close() }

    /// Sends one request and reads the whole response.
    public func send(_ method: HTTPMethod, _ target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = []) throws(HTTPClientError) -> HTTPClientResponse {
        var collected: [UInt8] = []
        let head = try stream(method, target, headers: headers, body: body) { chunk in
            collected += chunk
            return true
        }
        return HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: collected)
    }

    /// Sends one request and hands the body to `onData` as it arrives (chunk by chunk for chunked responses).
    /// `onData` returns false to stop reading early.
    public func stream(_ method: HTTPMethod, _ target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                       onData: ([UInt8]) -> Bool) throws(HTTPClientError) -> (status: Int, reason: String, headers: HTTPHeaders) {
        var text = "\(method.rawValue) \(target) HTTP/1.1\r\nHost: localhost\r\n"
        for field in headers.fields { text += "\(field.name): \(field.value)\r\n" }
        if !body.isEmpty || method == .post || method == .put { text += "Content-Length: \(body.count)\r\n" }
        text += "\r\n"
        do {
            try fd.writeAll(Array(text.utf8) + body)
        } catch {
            throw .io(error)
        }
        var head = try readHead()
        while head.status == 100 { head = try readHead() }
        if method == .head || head.status == 204 || head.status == 304 { return head }
        if head.headers.contains("Transfer-Encoding", token: "chunked") {
            while true {
                let line = try readLine()
                let sizeText = line.split(separator: ";").first.map(String.init) ?? ""
                guard let size = Int(sizeText.trimmingSpaces(), radix: 16), size >= 0, size <= maxBody else {
                    throw .malformedResponse("chunk size '\(line)'")
                }
                if size == 0 {
                    while try !readLine().isEmpty {}
                    break
                }
                let data = try readExactly(size)
                guard try readLine().isEmpty else { throw .malformedResponse("chunk not followed by CRLF") }
                if !onData(data) { break }
            }
        } else if let lengthText = head.headers["Content-Length"] {
            guard let length = Int(lengthText), length >= 0, length <= maxBody else {
                throw .malformedResponse("Content-Length '\(lengthText)'")
            }
            _ = onData(try readExactly(length))
        } else {
            _ = onData(try readToEnd())
        }
        return head
    }

    /// POSTs the `length` bytes of `file` as the body, streamed (never all in memory), and reads the response.
    /// `progress` hears bytes sent. A server that answers before taking the whole body (a refusal) is heard.
    public func upload(_ target: String, file: FileDescriptor, length: Int64, headers: HTTPHeaders = HTTPHeaders(),
                       progress: ((Int64) -> Void)? = nil) throws(HTTPClientError) -> HTTPClientResponse {
        var text = "POST \(target) HTTP/1.1\r\nHost: localhost\r\nContent-Length: \(length)\r\n"
        for field in headers.fields { text += "\(field.name): \(field.value)\r\n" }
        text += "\r\n"
        var sendFailure: SystemError?
        do {
            try fd.writeAll(Array(text.utf8))
            let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer { chunk.deallocate() }
            var sent: Int64 = 0
            while sent < length {
                let want = Int(min(Int64(chunk.count), length - sent))
                let slice = UnsafeMutableRawBufferPointer(rebasing: chunk[0..<want])
                try file.readExactly(into: slice, at: sent)
                try fd.writeAll(UnsafeRawBufferPointer(slice))
                sent += Int64(want)
                progress?(sent)
            }
        } catch {
            sendFailure = error
        }
        do throws(HTTPClientError) {
            var head = try readHead()
            while head.status == 100 { head = try readHead() }
            var body: [UInt8] = []
            if let lengthText = head.headers["Content-Length"], let count = Int(lengthText), count >= 0, count <= maxBody {
                body = try readExactly(count)
            }
            return HTTPClientResponse(status: head.status, reason: head.reason, headers: head.headers, body: body)
        } catch {
            if let sendFailure { throw .io(sendFailure) }
            throw error
        }
    }

    private func readHead() throws(HTTPClientError) -> (status: Int, reason: String, headers: HTTPHeaders) {
        let statusLine = try readLine()
        let parts = statusLine.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .malformedResponse("status line '\(statusLine)'")
        }
        var headers = HTTPHeaders()
        while true {
            let line = try readLine()
            if line.isEmpty { break }
            guard let colon = line.firstIndex(of: ":") else { throw .malformedResponse("header line '\(line)'") }
            headers.add(String(line[..<colon]), String(line[line.index(after: colon)...].trimmingSpaces()))
            guard headers.count <= 1000 else { throw .malformedResponse("too many header fields") }
        }
        return (status, parts.count > 2 ? String(parts[2]) : "", headers)
    }

    private func readLine() throws(HTTPClientError) -> String {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                var end = newline
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let line = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                return line
            }
            guard buffer.count - start < 1 << 20 else { throw .malformedResponse("line longer than 1 MiB") }
            guard try fill() else { throw .closedEarly }
        }
    }

    private func readExactly(_ count: Int) throws(HTTPClientError) -> [UInt8] {
        while buffer.count - start < count {
            guard try fill() else { throw .closedEarly }
        }
        let data = Array(buffer[start..<(start + count)])
        start += count
        return data
    }

    private func readToEnd() throws(HTTPClientError) -> [UInt8] {
        while try fill() {
            guard buffer.count - start <= maxBody else { throw .malformedResponse("body larger than \(maxBody) bytes") }
        }
        let data = Array(buffer[start...])
        start = buffer.count
        return data
    }

    /// Reads more bytes into the buffer; false at end of stream.
    private func fill() throws(HTTPClientError) -> Bool {
        if start > 0 && start == buffer.count {
            buffer.removeAll(keepingCapacity: true)
            start = 0
        }
        var chunk = [UInt8](repeating: 0, count: 65536)
        let result = chunk.withUnsafeMutableBytes { fd.read(into: $0) }
        switch result {
        case .success(0): return false
        case .success(let n):
            buffer += chunk[0..<n]
            return true
        case .failure(let error):
            throw .io(SystemError("read", errno: error))
        }
    }
}
