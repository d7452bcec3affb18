// Incremental HTTP/1.1 request parser. Input is untrusted: every size is capped and every byte class checked,
// and each failure carries the status code to answer with and a message naming what was wrong.

import Platform

public struct HTTPLimits: Sendable, Equatable {
    /// Request line plus header fields (and, separately, chunked trailers).
    public var maxHeaderBytes: Int
    public var maxHeaderCount: Int
    public var maxBodyBytes: Int

    public init(maxHeaderBytes: Int = 16 * 1024, maxHeaderCount: Int = 128, maxBodyBytes: Int = 8 << 20) {
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderCount = maxHeaderCount
        self.maxBodyBytes = maxBodyBytes
    }
}

public struct HTTPParseError: Error, Equatable, Sendable, CustomStringConvertible {
    public let status: HTTPStatus
    public let message: String
    public init(_ status: HTTPStatus, _ message: String) {
        self.status = status
        self.message = message
    }
    public var description: String { "\(status.code): \(message)" }
}

public struct HTTPParser: Sendable {
    public enum Event: Sendable {
        /// Not enough bytes for the next step.
        case needMore
        /// The head asked for `Expect: 100-continue` and its body has not started: answer `100 Continue`.
        case expectsContinue
        case request(HTTPRequest)
    }

    private enum State: Sendable {
        case head
        case fixedBody(remaining: Int)
        case chunkSize
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailers(bytes: Int)
    }

    public let limits: HTTPLimits
    /// Bodies that go to a file, and the connection's peer they are allowed for.
    public var uploads: UploadPolicy?
    public var peer: PeerCredentials?
    private var state = State.head
    private var request: HTTPRequest?
    private var body: [UInt8] = []
    private var spool: UploadedBody?
    /// The body limit of the request being read.
    private var bodyLimit = 0

    public init(limits: HTTPLimits, uploads: UploadPolicy? = nil, peer: PeerCredentials? = nil) {
        self.limits = limits
        self.uploads = uploads
        self.peer = peer
    }

    /// True while a body is being written to a file (the upload's time limit applies).
    public var isUploading: Bool { spool != nil }

    private mutating func store(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) {
        if let spool { try spool.append(bytes) } else { body.append(contentsOf: bytes) }
    }

    private var bodyCount: Int { spool?.count ?? body.count }

    /// True between requests: no partial request is buffered in the parser.
    public var isIdle: Bool {
        if case .head = state { return true }
        return false
    }

    /// Parses from `bytes`, reporting in `consumed` how many bytes were used. Call again with the rest after
    /// `.expectsContinue` or `.request`; after an error the connection must be closed.
    public mutating func parse(_ bytes: UnsafeRawBufferPointer, consumed: inout Int) throws(HTTPParseError) -> Event {
        consumed = 0
        while true {
            let rest = UnsafeRawBufferPointer(rebasing: bytes[consumed...])
            switch state {
            case .head:
                guard let (head, used) = try parseHead(rest) else { return .needMore }
                consumed += used
                let event = try beginBody(head, bodyBytesAvailable: rest.count - used)
                if let event { return event }

            case .fixedBody(let remaining):
                let take = min(remaining, rest.count)
                try store(UnsafeRawBufferPointer(rebasing: rest[0..<take]))
                consumed += take
                if take < remaining {
                    state = .fixedBody(remaining: remaining - take)
                    return .needMore
                }
                return .request(finish())

            case .chunkSize:
                guard let lineEnd = findCRLF(rest, limit: 1024) else {
                    if rest.count > 1024 { throw HTTPParseError(.badRequest, "chunk size line longer than 1024 bytes") }
                    return .needMore
                }
                let size = try parseChunkSize(UnsafeRawBufferPointer(rebasing: rest[0..<lineEnd]))
                consumed += lineEnd + 2
                if size == 0 {
                    state = .trailers(bytes: 0)
                } else {
                    guard size <= bodyLimit - bodyCount else {
                        throw HTTPParseError(.payloadTooLarge, "request body exceeds the limit of \(bodyLimit) bytes")
                    }
                    state = .chunkData(remaining: size)
                }

            case .chunkData(let remaining):
                let take = min(remaining, rest.count)
                try store(UnsafeRawBufferPointer(rebasing: rest[0..<take]))
                consumed += take
                if take < remaining {
                    state = .chunkData(remaining: remaining - take)
                    return .needMore
                }
                state = .chunkDataEnd

            case .chunkDataEnd:
                guard rest.count >= 2 else { return .needMore }
                guard rest[0] == 13, rest[1] == 10 else { throw HTTPParseError(.badRequest, "chunk data not followed by CRLF") }
                consumed += 2
                state = .chunkSize

            case .trailers(let seen):
                // Trailer fields are read and dropped; only their size matters.
                guard let lineEnd = findCRLF(rest, limit: limits.maxHeaderBytes) else {
                    if seen + rest.count > limits.maxHeaderBytes {
                        throw HTTPParseError(.headersTooLarge, "chunked trailers exceed \(limits.maxHeaderBytes) bytes")
                    }
                    return .needMore
                }
                consumed += lineEnd + 2
                if lineEnd == 0 { return .request(finish()) }
                guard seen + lineEnd + 2 <= limits.maxHeaderBytes else {
                    throw HTTPParseError(.headersTooLarge, "chunked trailers exceed \(limits.maxHeaderBytes) bytes")
                }
                state = .trailers(bytes: seen + lineEnd + 2)
            }
        }
    }

    private mutating func finish() -> HTTPRequest {
        var done = request!
        done.body = body
        if let spool {
            spool.close()
            done.upload = spool
        }
        request = nil
        body = []
        spool = nil
        state = .head
        return done
    }

    /// Chooses the body framing for a parsed head. Returns an event to hand back now, or nil to keep parsing.
    private mutating func beginBody(_ head: HTTPRequest, bodyBytesAvailable: Int) throws(HTTPParseError) -> Event? {
        let transferEncodings = head.headers.values("Transfer-Encoding")
        let lengths = head.headers.values("Content-Length")
        request = head
        body = []
        spool = nil
        bodyLimit = limits.maxBodyBytes
        var uploading = false
        if let uploads, head.method == .post, uploads.paths.contains(String(head.path)) {
            guard uploads.allowed(peer) else {
                throw HTTPParseError(.forbidden, "\(head.path) is for root and the admin group; the upload was not stored")
            }
            bodyLimit = uploads.maxBytes
            uploading = true
        }
        var expectsBody: Bool
        if !transferEncodings.isEmpty {
            guard lengths.isEmpty else {
                throw HTTPParseError(.badRequest, "request has both Content-Length and Transfer-Encoding")
            }
            guard head.version == .http1_1 else { throw HTTPParseError(.badRequest, "Transfer-Encoding in an HTTP/1.0 request") }
            let codings = transferEncodings.flatMap { $0.split(separator: ",") }.map { $0.trimmingSpaces().lowercased() }
            guard codings == ["chunked"] else {
                throw HTTPParseError(.notImplemented, "unsupported Transfer-Encoding '\(transferEncodings.joined(separator: ", "))'; only chunked is accepted")
            }
            state = .chunkSize
            expectsBody = true
            if uploading { spool = try UploadedBody(directory: uploads!.directory) }
        } else if !lengths.isEmpty {
            let length = try parseContentLength(lengths)
            guard length <= bodyLimit else {
                throw HTTPParseError(.payloadTooLarge, "request body of \(length) bytes exceeds the limit of \(bodyLimit) bytes")
            }
            if uploading {
                if let reason = uploads!.fits(length) { throw HTTPParseError(.insufficientStorage, reason) }
                spool = try UploadedBody(directory: uploads!.directory)
            }
            if length == 0 { return .request(finish()) }
            if !uploading { body.reserveCapacity(length) }
            state = .fixedBody(remaining: length)
            expectsBody = true
        } else {
            return .request(finish())
        }
        if let expect = head.headers["Expect"] {
            guard HTTPHeaders.same(expect.trimmingSpaces(), "100-continue") else {
                throw HTTPParseError(.expectationFailed, "unsupported Expect value '\(expect)'")
            }
            if expectsBody && bodyBytesAvailable == 0 && head.version == .http1_1 { return .expectsContinue }
        }
        return nil
    }

    private func parseContentLength(_ values: [String]) throws(HTTPParseError) -> Int {
        var result: Int?
        for value in values.flatMap({ $0.split(separator: ",", omittingEmptySubsequences: false) }) {
            let text = value.trimmingSpaces()
            guard !text.isEmpty, text.utf8.count <= 18, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let number = Int(text) else {
                throw HTTPParseError(.badRequest, "invalid Content-Length '\(value)'")
            }
            if let result, result != number { throw HTTPParseError(.badRequest, "conflicting Content-Length values") }
            result = number
        }
        guard let result else { throw HTTPParseError(.badRequest, "empty Content-Length") }
        return result
    }

    private func parseChunkSize(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> Int {
        var size = 0
        var digits = 0
        for byte in line {
            let value: Int
            switch byte {
            case 48...57: value = Int(byte) - 48
            case 65...70: value = Int(byte) - 55
            case 97...102: value = Int(byte) - 87
            case 59, 32, 9: // ';' starts an extension, which we ignore; whitespace may precede it.
                guard digits > 0 else { throw HTTPParseError(.badRequest, "chunk size missing") }
                return size
            default:
                throw HTTPParseError(.badRequest, "invalid character in chunk size")
            }
            digits += 1
            guard digits <= 15 else { throw HTTPParseError(.payloadTooLarge, "chunk size too large") }
            size = size * 16 + value
        }
        guard digits > 0 else { throw HTTPParseError(.badRequest, "chunk size missing") }
        return size
    }

    // MARK: - Head

    /// Parses the request line and header fields when the blank line that ends them has arrived.
    private func parseHead(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) -> (HTTPRequest, Int)? {
        // Robustness (RFC 9112 2.2): empty lines before the request line are ignored.
        var start = 0
        while start + 1 < bytes.count, bytes[start] == 13, bytes[start + 1] == 10 { start += 2 }
        let available = UnsafeRawBufferPointer(rebasing: bytes[start...])
        let searchLimit = limits.maxHeaderBytes + 4
        guard let end = findHeadEnd(available, limit: searchLimit) else {
            try checkPartialRequestLine(available)
            if available.count >= searchLimit {
                throw HTTPParseError(.headersTooLarge, "request line and headers exceed \(limits.maxHeaderBytes) bytes")
            }
            return nil
        }
        let head = UnsafeRawBufferPointer(rebasing: available[0..<end])
        var lines: [UnsafeRawBufferPointer] = []
        var lineStart = 0
        var index = 0
        while index < head.count {
            if head[index] == 10 {
                guard index > 0, head[index - 1] == 13 else {
                    throw HTTPParseError(.badRequest, "bare LF in request head")
                }
                lines.append(UnsafeRawBufferPointer(rebasing: head[lineStart..<(index - 1)]))
                lineStart = index + 1
            }
            index += 1
        }
        lines.append(UnsafeRawBufferPointer(rebasing: head[lineStart..<head.count]))
        guard lines.count - 1 <= limits.maxHeaderCount else {
            throw HTTPParseError(.headersTooLarge, "more than \(limits.maxHeaderCount) header fields")
        }
        var request = try parseRequestLine(lines[0])
        for line in lines.dropFirst() {
            let (name, value) = try parseField(line)
            request.headers.add(name, value)
        }
        return (request, start + end + 4)
    }

    /// Rejects a garbage first line as soon as it is visible, instead of waiting for the header limit.
    private func checkPartialRequestLine(_ bytes: UnsafeRawBufferPointer) throws(HTTPParseError) {
        let lineEnd = findCRLF(bytes, limit: bytes.count)
        // A CR at the very end may be the first half of the line's CRLF.
        let partialEnd = bytes.last == 13 ? bytes.count - 1 : bytes.count
        let line = UnsafeRawBufferPointer(rebasing: bytes[0..<(lineEnd ?? partialEnd)])
        for byte in line where byte < 0x20 || byte == 0x7f {
            throw HTTPParseError(.badRequest, "invalid byte 0x\(String(byte, radix: 16)) in request line")
        }
        if let lineEnd { _ = try parseRequestLine(UnsafeRawBufferPointer(rebasing: bytes[0..<lineEnd])) }
        if lineEnd == nil, line.count > limits.maxHeaderBytes {
            throw HTTPParseError(.uriTooLong, "request line exceeds \(limits.maxHeaderBytes) bytes")
        }
    }

    private func parseRequestLine(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> HTTPRequest {
        let parts = line.split(separator: 32, maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw HTTPParseError(.badRequest, "malformed request line")
        }
        let methodBytes = parts[0]
        guard methodBytes.allSatisfy(Self.isTokenByte) else { throw HTTPParseError(.badRequest, "invalid method") }
        let methodName = String(decoding: methodBytes, as: UTF8.self)
        guard let method = HTTPMethod(rawValue: methodName) else {
            throw HTTPParseError(.notImplemented, "method \(methodName) is not implemented")
        }
        let target = parts[1]
        guard target.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else { throw HTTPParseError(.badRequest, "invalid request target") }
        guard target.first == 47 || (target.count == 1 && target.first == 42) else {
            throw HTTPParseError(.badRequest, "request target must be an absolute path")
        }
        let version = try parseVersion(parts[2])
        return HTTPRequest(method: method, target: String(decoding: target, as: UTF8.self), version: version)
    }

    private func parseVersion(_ bytes: Slice<UnsafeRawBufferPointer>) throws(HTTPParseError) -> HTTPVersion {
        let text = Array(bytes)
        guard text.count == 8, text[0..<5].elementsEqual("HTTP/".utf8), text[6] == 46,
              text[5] >= 48, text[5] <= 57, text[7] >= 48, text[7] <= 57 else {
            throw HTTPParseError(.badRequest, "malformed HTTP version")
        }
        let version = HTTPVersion(major: Int(text[5] - 48), minor: Int(text[7] - 48))
        guard version.major == 1 else { throw HTTPParseError(.versionNotSupported, "HTTP version \(version) is not supported") }
        return version.minor == 0 ? .http1_0 : .http1_1
    }

    private func parseField(_ line: UnsafeRawBufferPointer) throws(HTTPParseError) -> (String, String) {
        guard let first = line.first else { throw HTTPParseError(.badRequest, "empty header line") }
        if first == 32 || first == 9 { throw HTTPParseError(.badRequest, "obsolete header line folding") }
        guard let colon = line.firstIndex(of: 58) else { throw HTTPParseError(.badRequest, "header field without ':'") }
        let name = line[0..<colon]
        guard !name.isEmpty, name.allSatisfy(Self.isTokenByte) else {
            throw HTTPParseError(.badRequest, "invalid header field name")
        }
        var valueStart = colon + 1
        var valueEnd = line.count
        while valueStart < valueEnd, line[valueStart] == 32 || line[valueStart] == 9 { valueStart += 1 }
        while valueEnd > valueStart, line[valueEnd - 1] == 32 || line[valueEnd - 1] == 9 { valueEnd -= 1 }
        let value = line[valueStart..<valueEnd]
        guard value.allSatisfy({ $0 == 9 || ($0 >= 0x20 && $0 != 0x7f) }) else {
            throw HTTPParseError(.badRequest, "invalid byte in value of header \(String(decoding: name, as: UTF8.self))")
        }
        return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
    }

    /// tchar from RFC 9110 5.6.2.
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case 48...57, 65...90, 97...122: return true
        case 33, 35, 36, 37, 38, 39, 42, 43, 45, 46, 94, 95, 96, 124, 126: return true
        default: return false
        }
    }

    private func findCRLF(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int? {
        let end = min(bytes.count, limit + 2)
        var index = 0
        while index + 1 < end {
            if bytes[index] == 13 && bytes[index + 1] == 10 { return index }
            index += 1
        }
        return nil
    }

    /// Offset of the CRLFCRLF that ends the head.
    private func findHeadEnd(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Int? {
        let end = min(bytes.count, limit)
        guard end >= 4 else { return nil }
        var index = 0
        while index + 3 < end {
            if bytes[index + 3] != 10 { index += bytes[index + 3] == 13 ? 1 : 4
                continue }
            if bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 { return index }
            index += 1
        }
        return nil
    }
}
