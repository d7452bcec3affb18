import Foundation
import Glibc
import Platform

/// A client connection that writes raw bytes and reads raw responses, for tests that must send broken HTTP.
final class RawConnection {
    struct Response {
        let status: Int
        let headers: [String: String]
        let body: String
    }

    private let fd: FileDescriptor
    private var buffer: [UInt8] = []
    private var closed = false

    init(path: String) throws {
        fd = try UnixSocket.connect(path: path)
    }

    deinit { close() }

    func close() {
        guard !closed else { return }
        closed = true
        fd.close()
    }

    func send(_ text: String) throws { try sendBytes(Array(text.utf8)) }
    func sendBytes(_ bytes: [UInt8]) throws { try fd.writeAll(bytes) }
    func shutdownWrite() { UnixSocket.shutdownWrite(fd) }

    /// Reads more bytes, waiting at most `timeout` seconds; returns false at end of stream.
    private func fill(timeout: Double) throws -> Bool {
        var poller = pollfd(fd: fd.rawValue, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { throw TestTimeout() }
        var chunk = [UInt8](repeating: 0, count: 65536)
        switch chunk.withUnsafeMutableBytes({ fd.read(into: $0) }) {
        case .success(0): return false
        case .success(let n):
            buffer += chunk[0..<n]
            return true
        case .failure(let errno) where errno == .connectionReset: return false
        case .failure(let errno): throw errno
        }
    }

    struct TestTimeout: Error {}

    func readUntil(_ marker: String, timeout: Double = 5) throws -> String {
        let needle = Array(marker.utf8)
        while true {
            if let range = find(needle) {
                let text = String(decoding: buffer[0..<range], as: UTF8.self)
                buffer.removeFirst(range)
                return text
            }
            guard try fill(timeout: timeout) else { throw TestTimeout() }
        }
    }

    func readToEnd(timeout: Double) throws -> [UInt8] {
        while try fill(timeout: timeout) {}
        defer { buffer.removeAll() }
        return buffer
    }

    /// Reads `count` complete responses with Content-Length bodies.
    func readResponses(count: Int, timeout: Double = 5) throws -> [Response] {
        var responses: [Response] = []
        while responses.count < count {
            let head = try readUntil("\r\n\r\n", timeout: timeout)
            var lines = head.components(separatedBy: "\r\n")
            let statusLine = lines.removeFirst().split(separator: " ")
            var headers: [String: String] = [:]
            for line in lines {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = Int(headers["content-length"] ?? "0") ?? 0
            while buffer.count < length { guard try fill(timeout: timeout) else { throw TestTimeout() } }
            let body = String(decoding: buffer[0..<length], as: UTF8.self)
            buffer.removeFirst(length)
            responses.append(Response(status: Int(statusLine[1]) ?? 0, headers: headers, body: body))
        }
        return responses
    }

    private func find(_ needle: [UInt8]) -> Int? {
        guard buffer.count >= needle.count else { return nil }
        for start in 0...(buffer.count - needle.count) where buffer[start..<(start + needle.count)].elementsEqual(needle) {
            return start + needle.count
        }
        return nil
    }
}
