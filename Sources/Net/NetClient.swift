// Outbound HTTP(S) over libcurl: TLS with the system's or a given CA, client certificates, the proxies libcurl
// reads from the environment (HTTPS_PROXY, NO_PROXY), connect and low-speed timeouts, a bandwidth cap, resumed
// downloads (Range), bodies streamed to the caller as they arrive and uploads streamed from a file: never a whole
// model in memory. Only http and https, redirects only when asked for (blob downloads), credentials never sent
// to another host on a redirect.
import CCurl
import Platform

public struct NetOptions: Sendable, Equatable {
    /// PEM file of the CAs to trust instead of the system's.
    public var caFile: String?
    /// PEM client certificate and key, for registries that require mutual TLS.
    public var clientCertificate: String?
    public var clientKey: String?
    public var connectTimeoutSeconds = 30
    /// A transfer slower than this for `lowSpeedSeconds` is abandoned (and resumed by the caller later).
    public var lowSpeedBytesPerSecond = 1024
    public var lowSpeedSeconds = 60
    /// Cap on bytes per second in each direction; 0: none.
    public var maxBytesPerSecond: Int64 = 0
    public var userAgent = "outpost"

    public init() {}
}

public struct NetError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    /// Worth trying again later (connection, timeout, 5xx, 429), as opposed to a refusal that will not change.
    public let transient: Bool
    public init(_ message: String, transient: Bool) {
        self.message = message
        self.transient = transient
    }
    public var description: String { message }
}

public enum NetBody: Sendable {
    case none
    case bytes([UInt8])
    /// `length` bytes of `file` from `offset`, read as they are sent.
    case file(FileDescriptor, offset: Int64, length: Int64)
}

public struct NetRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: NetBody
    public var followRedirects: Bool
    /// Ask for the body from this byte on (`Range: bytes=N-`).
    public var resumeFrom: Int64?

    public init(_ method: String, _ url: String, headers: [(name: String, value: String)] = [], body: NetBody = .none,
                followRedirects: Bool = false, resumeFrom: Int64? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.followRedirects = followRedirects
        self.resumeFrom = resumeFrom
    }
}

public struct NetResponse: Sendable {
    public let status: Int
    /// The header fields of the final response (after redirects and 100 Continue).
    public let headers: [(name: String, value: String)]
    public let url: String
    /// The body, when it was collected (not streamed to a callback; an unsuccessful answer's body always is).
    public let body: [UInt8]

    public func header(_ name: String) -> String? {
        headers.last { $0.name.lowercased() == name.lowercased() }?.value
    }

    public var text: String { String(decoding: body, as: UTF8.self) }
}

public final class NetClient: Sendable {
    public let options: NetOptions
    /// A collected body larger than this is an error (manifests, tokens and errors are small).
    public static let maxCollectedBytes = 16 << 20

    private static let started: Bool = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK

    public init(options: NetOptions = NetOptions()) {
        self.options = options
    }

    /// Performs `request`. The body goes to `onData` chunk by chunk when given (return false to stop), else it is
    /// collected. Any HTTP status is a response; only transport failures throw.
    public func perform(_ request: NetRequest, onData: ((UnsafeRawBufferPointer) -> Bool)? = nil) throws(NetError) -> NetResponse {
        guard Self.started, let handle = curl_easy_init() else { throw NetError("libcurl could not be initialised", transient: false) }
        defer { curl_easy_cleanup(handle) }
        let transfer = Transfer(onData: onData)
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        var list: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(list) }
        let errorBuffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        defer { errorBuffer.deallocate() }

        var failed: CURLcode = CURLE_OK
        func set(_ code: CURLcode) { if failed == CURLE_OK && code != CURLE_OK { failed = code } }
        set(ccurl_setopt_string(handle, CURLOPT_URL, request.url))
        set(ccurl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        set(ccurl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        set(ccurl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        set(ccurl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0))
        set(ccurl_setopt_long(handle, CURLOPT_MAXREDIRS, 5))
        set(ccurl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, options.connectTimeoutSeconds))
        set(ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, options.lowSpeedBytesPerSecond))
        set(ccurl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, options.lowSpeedSeconds))
        set(ccurl_setopt_string(handle, CURLOPT_USERAGENT, options.userAgent))
        set(ccurl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        if options.maxBytesPerSecond > 0 {
            set(ccurl_setopt_offset(handle, CURLOPT_MAX_RECV_SPEED_LARGE, curl_off_t(options.maxBytesPerSecond)))
            set(ccurl_setopt_offset(handle, CURLOPT_MAX_SEND_SPEED_LARGE, curl_off_t(options.maxBytesPerSecond)))
        }
        if let caFile = options.caFile { set(ccurl_setopt_string(handle, CURLOPT_CAINFO, caFile)) }
        if let certificate = options.clientCertificate { set(ccurl_setopt_string(handle, CURLOPT_SSLCERT, certificate)) }
        if let key = options.clientKey { set(ccurl_setopt_string(handle, CURLOPT_SSLKEY, key)) }
        if let from = request.resumeFrom, from > 0 { set(ccurl_setopt_offset(handle, CURLOPT_RESUME_FROM_LARGE, curl_off_t(from))) }

        set(ccurl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, Transfer.write))
        set(ccurl_setopt_pointer(handle, CURLOPT_WRITEDATA, context))
        set(ccurl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, Transfer.header))
        set(ccurl_setopt_pointer(handle, CURLOPT_HEADERDATA, context))

        switch request.method {
        case "GET": break
        case "HEAD": set(ccurl_setopt_long(handle, CURLOPT_NOBODY, 1))
        default: set(ccurl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method))
        }
        var uploadLength: Int64 = -1
        switch request.body {
        case .none:
            if request.method == "POST" || request.method == "PUT" || request.method == "PATCH" { uploadLength = 0 }
        case .bytes(let bytes):
            transfer.upload = .bytes(bytes, 0)
            uploadLength = Int64(bytes.count)
        case .file(let fd, let offset, let length):
            transfer.upload = .file(fd, offset, length)
            uploadLength = length
        }
        if uploadLength >= 0 {
            set(ccurl_setopt_long(handle, CURLOPT_UPLOAD, 1))
            set(ccurl_setopt_offset(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(uploadLength)))
            set(ccurl_setopt_callback(handle, CURLOPT_READFUNCTION, Transfer.read))
            set(ccurl_setopt_pointer(handle, CURLOPT_READDATA, context))
        }
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        // No "Expect: 100-continue" round trip before uploads.
        list = curl_slist_append(list, "Expect:")
        set(ccurl_setopt_list(handle, CURLOPT_HTTPHEADER, list))
        guard failed == CURLE_OK else {
            throw NetError("libcurl refused an option: \(String(cString: curl_easy_strerror(failed)))", transient: false)
        }

        let code = curl_easy_perform(handle)
        if let stopped = transfer.stopped { throw NetError("\(Self.redacted(request.url)): \(stopped)", transient: false) }
        if code == CURLE_WRITE_ERROR && transfer.stoppedByCaller {
            // The caller had enough; what arrived is the answer.
        } else if code != CURLE_OK {
            let detail = String(cString: errorBuffer)
            let text = detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail
            throw NetError("\(request.method) \(Self.redacted(request.url)): \(text)", transient: Self.isTransient(code))
        }
        var status = 0
        ccurl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        var effective: UnsafeMutablePointer<CChar>?
        ccurl_getinfo_string(handle, CURLINFO_EFFECTIVE_URL, &effective)
        return NetResponse(status: status, headers: transfer.headers, url: effective.map { String(cString: $0) } ?? request.url,
                           body: transfer.body)
    }

    /// The URL without user information, for messages.
    static func redacted(_ url: String) -> String {
        let parts = url.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count >= 3, parts[0].hasSuffix(":"), parts[1].isEmpty, let at = parts[2].lastIndex(of: "@") else { return url }
        var rebuilt = [String(parts[0]), "", String(parts[2][parts[2].index(after: at)...])]
        if parts.count > 3 { rebuilt.append(String(parts[3])) }
        return rebuilt.joined(separator: "/")
    }

    static func isTransient(_ code: CURLcode) -> Bool {
        switch code {
        case CURLE_COULDNT_CONNECT, CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY, CURLE_OPERATION_TIMEDOUT,
             CURLE_RECV_ERROR, CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_HTTP2, CURLE_HTTP2_STREAM:
            return true
        default:
            return false
        }
    }
}

/// One transfer's state, reached from libcurl's callbacks through their context pointer.
final class Transfer {
    enum Upload {
        case bytes([UInt8], Int)
        case file(FileDescriptor, Int64, Int64)
    }

    var headers: [(name: String, value: String)] = []
    var body: [UInt8] = []
    let onData: ((UnsafeRawBufferPointer) -> Bool)?
    var upload: Upload?
    /// Why the transfer was stopped from here (a body too large, an unreadable upload).
    var stopped: String?
    var stoppedByCaller = false
    /// The status of the response being received (from its status line).
    var status = 0

    init(onData: ((UnsafeRawBufferPointer) -> Bool)?) {
        self.onData = onData
    }

    static let write: ccurl_data_callback = { buffer, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let bytes = UnsafeRawBufferPointer(start: buffer, count: size * count)
        // Only a successful answer is streamed; an error's body is collected for its message.
        if let onData = transfer.onData, (200..<300).contains(transfer.status) {
            guard onData(bytes) else {
                transfer.stoppedByCaller = true
                return 0
            }
        } else {
            guard transfer.body.count + bytes.count <= NetClient.maxCollectedBytes else {
                transfer.stopped = "the response body is larger than \(NetClient.maxCollectedBytes) bytes"
                return 0
            }
            transfer.body.append(contentsOf: bytes)
        }
        return size * count
    }

    static let header: ccurl_data_callback = { buffer, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let line = String(decoding: UnsafeRawBufferPointer(start: buffer, count: size * count), as: UTF8.self)
        if line.hasPrefix("HTTP/") {
            // A new response (after a redirect or 100 Continue): its fields replace the previous ones.
            transfer.headers = []
            transfer.status = line.split(separator: " ").dropFirst().first.flatMap { Int($0) } ?? 0
        } else if let colon = line.firstIndex(of: ":") {
            let name = String(line[..<colon])
            let value = String(line[line.index(after: colon)...]).trimmingCharacters(in: " \t\r\n")
            if transfer.headers.count < 256 { transfer.headers.append((name, value)) }
        }
        return size * count
    }

    static let read: ccurl_data_callback = { buffer, size, count, context in
        let transfer = Unmanaged<Transfer>.fromOpaque(context!).takeUnretainedValue()
        let room = size * count
        switch transfer.upload {
        case .bytes(let bytes, let sent)?:
            let take = min(room, bytes.count - sent)
            bytes.withUnsafeBytes { raw in
                UnsafeMutableRawPointer(buffer!).copyMemory(from: raw.baseAddress! + sent, byteCount: take)
            }
            transfer.upload = .bytes(bytes, sent + take)
            return take
        case .file(let fd, let offset, let remaining)?:
            let take = Int(min(Int64(room), remaining))
            guard take > 0 else { return 0 }
            do {
                try fd.readExactly(into: UnsafeMutableRawBufferPointer(start: buffer, count: take), at: offset)
            } catch {
                transfer.stopped = "cannot read what is being sent: \(error)"
                return Int(CURL_READFUNC_ABORT)
            }
            transfer.upload = .file(fd, offset + Int64(take), remaining - Int64(take))
            return take
        case nil:
            return 0
        }
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var slice = self[...]
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
