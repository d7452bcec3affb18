// The OCI distribution API (opencontainers/distribution-spec, spec.md) as a bundle needs it: the /v2/ ping,
// anonymous, basic and bearer-token authentication (the WWW-Authenticate challenge, a token scoped to the
// repository, fetched again on a 401), manifests by tag or digest with the OCI Accept types, blobs by digest with
// redirects followed and every byte checked against the digest as it arrives, resumable with Range; and pushing:
// blob upload sessions (POST, then chunked PATCH, then PUT with the digest), a blob the registry already has
// skipped, manifests PUT by tag.
import Bundles
import FoundationEssentials
import JSON
import Net
import Platform
import Sodium

public struct RegistryError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public let transient: Bool
    /// Seconds the registry asked to wait (Retry-After on a 429 or 503).
    public let retryAfter: Double?
    public init(_ message: String, transient: Bool = false, retryAfter: Double? = nil) {
        self.message = message
        self.transient = transient
        self.retryAfter = retryAfter
    }
    public var description: String { message }
}

public final class RegistryClient: @unchecked Sendable {
    /// `https://host[:port]` (or `http://` for a loopback registry).
    public let registry: String
    /// The repository path, e.g. `outpost/support-bot`.
    public let repository: String
    let net: NetClient
    let credentials: (user: String, password: String)?
    private var authorization: String?

    public static let manifestAccept = [MediaType.imageManifest, MediaType.imageIndex].joined(separator: ", ")
    /// Bytes per PATCH of a chunked blob upload.
    public static let uploadChunkBytes: Int64 = 32 << 20

    /// `allowInsecure` permits `http://` to a host other than a loopback address.
    public init(registry: String, repository: String, credentials: (user: String, password: String)? = nil,
                options: NetOptions = NetOptions(), allowInsecure: Bool = false) throws(RegistryError) {
        var base = registry
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("https://") || base.hasPrefix("http://") else {
            throw RegistryError("the registry must be an https:// URL (or http:// on a loopback address), got \(registry)")
        }
        if base.hasPrefix("http://") && !allowInsecure && !Self.isLoopback(base) {
            throw RegistryError("refusing plain http to \(registry): only a loopback registry may be reached without TLS (or set allow_insecure)")
        }
        guard Self.isValidRepository(repository) else {
            throw RegistryError("repository '\(repository)' must be lower-case path components of letters, digits, '.', '_' and '-'")
        }
        self.registry = base
        self.repository = repository
        self.credentials = credentials
        net = NetClient(options: options)
    }

    static func isLoopback(_ url: String) -> Bool {
        let host = url.dropFirst("http://".count).prefix { $0 != "/" }
        let name = host.hasPrefix("[") ? String(host.prefix { $0 != "]" }.dropFirst()) : String(host.prefix { $0 != ":" })
        return name == "localhost" || name.hasPrefix("127.") || name == "::1"
    }

    /// The distribution spec's repository name grammar, in short: components of [a-z0-9] joined by . _ __ -.
    static func isValidRepository(_ name: String) -> Bool {
        guard (1...255).contains(name.utf8.count) else { return false }
        return name.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { component in
            let bytes = Array(component.utf8)
            func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
            return !bytes.isEmpty && alnum(bytes.first!) && alnum(bytes.last!)
                && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
        }
    }

    var base: String { "\(registry)/v2/\(repository)" }

    // MARK: - Requests with authentication

    /// Sends `request` with the current authorization; on a 401, answers the challenge once and sends it again.
    func send(_ request: NetRequest, onData: ((UnsafeRawBufferPointer) -> Bool)? = nil) throws(RegistryError) -> NetResponse {
        var attempt = request
        for round in 0..<2 {
            attempt.headers = request.headers + (authorization.map { [("Authorization", $0)] } ?? [])
            let response: NetResponse
            do {
                // Only a successful answer reaches `onData`; a 401's body is collected.
                response = try net.perform(attempt, onData: onData)
            } catch {
                throw RegistryError(error.message, transient: error.transient)
            }
            guard response.status == 401, round == 0 else { return response }
            guard let challenge = response.header("WWW-Authenticate") else {
                throw RegistryError("\(request.method) \(request.url): 401 with no WWW-Authenticate challenge")
            }
            try authenticate(challenge)
        }
        throw RegistryError("\(request.method) \(request.url): still 401 after authenticating")
    }

    /// Answers a `Basic` or `Bearer` challenge (RFC 7235; the Docker token protocol for bearer).
    func authenticate(_ challenge: String) throws(RegistryError) {
        let scheme = challenge.prefix { $0 != " " }.lowercased()
        let parameters = Self.challengeParameters(String(challenge.drop { $0 != " " }))
        switch scheme {
        case "basic":
            guard let credentials else { throw RegistryError("the registry asks for a user and password (--auth-file, or [sync] credentials)") }
            authorization = "Basic " + Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()
        case "bearer":
            guard let realm = parameters["realm"], realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
                throw RegistryError("bearer challenge without a usable realm: \(challenge.prefix(200))")
            }
            var url = realm + (realm.contains("?") ? "&" : "?")
            var query: [String] = []
            if let service = parameters["service"] { query.append("service=" + Self.percentEncoded(service)) }
            query.append("scope=" + Self.percentEncoded(parameters["scope"] ?? "repository:\(repository):pull,push"))
            url += query.joined(separator: "&")
            var headers: [(name: String, value: String)] = []
            if let credentials {
                headers.append(("Authorization", "Basic " + Data("\(credentials.user):\(credentials.password)".utf8).base64EncodedString()))
            }
            let response: NetResponse
            do {
                response = try net.perform(NetRequest("GET", url, headers: headers))
            } catch {
                throw RegistryError("token endpoint: \(error.message)", transient: error.transient)
            }
            guard response.status == 200 else { throw RegistryError("token endpoint answered \(response.status): \(response.text.prefix(200))") }
            let reader: JSONObjectReader
            do {
                reader = try JSONObjectReader(parsing: response.body)
                guard let token = try reader.string("token") ?? reader.string("access_token"), !token.isEmpty else {
                    throw JSONFieldError("no token")
                }
                authorization = "Bearer " + token
            } catch {
                throw RegistryError("token endpoint answered no token: \(error)")
            }
        default:
            throw RegistryError("unsupported authentication scheme '\(scheme)'")
        }
    }

    /// `realm="...",service="...",scope="..."` → a dictionary.
    static func challengeParameters(_ text: String) -> [String: String] {
        var result: [String: String] = [:]
        var rest = Substring(text)
        while !rest.isEmpty {
            rest = rest.drop { $0 == " " || $0 == "," }
            guard let equals = rest.firstIndex(of: "=") else { break }
            let key = rest[..<equals].filter { $0 != " " }.lowercased()
            rest = rest[rest.index(after: equals)...]
            var value = ""
            if rest.first == "\"" {
                rest = rest.dropFirst()
                while let c = rest.first, c != "\"" {
                    if c == "\\", let next = rest.dropFirst().first {
                        value.append(next)
                        rest = rest.dropFirst(2)
                    } else {
                        value.append(c)
                        rest = rest.dropFirst()
                    }
                }
                rest = rest.dropFirst()
            } else {
                value = String(rest.prefix { $0 != "," })
                rest = rest.drop { $0 != "," }
            }
            result[key] = value
        }
        return result
    }

    static func percentEncoded(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(byte)))
            default:
                out += "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
            }
        }
        return out
    }

    func failure(_ what: String, _ response: NetResponse) -> RegistryError {
        let transient = response.status >= 500 || response.status == 429
        var detail = response.text.prefix(300).description
        let retryAfter = response.header("Retry-After").flatMap { Double($0.filter { $0 != " " }) }.map { min(max($0, 0), 86_400) }
        if let retryAfter { detail += " (Retry-After \(Int(retryAfter)) s)" }
        return RegistryError("\(what): the registry answered \(response.status) \(detail)", transient: transient, retryAfter: retryAfter)
    }

    // MARK: - Reading

    /// Checks that the registry speaks the distribution API and that we may use it.
    public func ping() throws(RegistryError) {
        let response = try send(NetRequest("GET", "\(registry)/v2/"))
        guard response.status == 200 else { throw failure("GET /v2/", response) }
    }

    /// The manifest `reference` (a tag or a digest) names: its bytes, media type and digest (checked against the
    /// reference when it is a digest, and against the registry's Docker-Content-Digest when it gives one).
    public func manifest(_ reference: String) throws(RegistryError) -> (bytes: [UInt8], mediaType: String, digest: Digest) {
        let response = try send(NetRequest("GET", "\(base)/manifests/\(reference)", headers: [("Accept", Self.manifestAccept)]))
        guard response.status == 200 else { throw failure("manifest \(reference)", response) }
        guard response.body.count <= OCIManifest.maxBytes else { throw RegistryError("manifest \(reference) is larger than \(OCIManifest.maxBytes) bytes") }
        let digest = try Self.digest(response.body)
        if let expected = Digest(reference), expected != digest {
            throw RegistryError("manifest \(reference): the registry sent bytes whose digest is \(digest)")
        }
        if let claimed = response.header("Docker-Content-Digest"), let claimedDigest = Digest(claimed), claimedDigest != digest {
            throw RegistryError("manifest \(reference): the registry claims \(claimed) for bytes whose digest is \(digest)")
        }
        return (response.body, response.header("Content-Type") ?? "", digest)
    }

    /// The manifest `reference` names, or nil when the registry has none by that name (404).
    public func manifestIfPresent(_ reference: String) throws(RegistryError) -> (bytes: [UInt8], mediaType: String, digest: Digest)? {
        let probe = try send(NetRequest("HEAD", "\(base)/manifests/\(reference)", headers: [("Accept", Self.manifestAccept)]))
        if probe.status == 404 { return nil }
        return try manifest(reference)
    }

    /// A small blob (a config, a signature) read whole and checked against its digest.
    public func smallBlob(_ descriptor: OCIDescriptor, limit: Int) throws(RegistryError) -> [UInt8] {
        guard descriptor.size <= Int64(limit) else { throw RegistryError("blob \(descriptor.digest) is declared as \(descriptor.size) bytes, more than \(limit)") }
        var bytes: [UInt8] = []
        _ = try fetchBlob(descriptor.digest) { (chunk) throws(RegistryError) in
            guard bytes.count + chunk.count <= Int(descriptor.size) else { throw RegistryError("blob \(descriptor.digest) is larger than declared") }
            bytes.append(contentsOf: chunk)
        }
        guard try Self.digest(bytes) == descriptor.digest, Int64(bytes.count) == descriptor.size else {
            throw RegistryError("blob \(descriptor.digest) arrived with other bytes (altered in transit or by the registry)", transient: true)
        }
        return bytes
    }

    /// Whether the repository has blob `digest` (and its size when it does).
    public func blobSize(_ digest: Digest) throws(RegistryError) -> Int64? {
        let response = try send(NetRequest("HEAD", "\(base)/blobs/\(digest)"))
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw failure("blob \(digest)", response) }
        return response.header("Content-Length").flatMap { Int64($0) }
    }

    /// Streams blob `digest` to `sink`, from byte `offset` on (bytes before it were received earlier and are
    /// passed in `hasher` state by the caller). Redirects to object storage are followed. Returns the bytes
    /// received in this call.
    public func fetchBlob(_ digest: Digest, from offset: Int64 = 0,
                          sink: (UnsafeRawBufferPointer) throws(RegistryError) -> Void) throws(RegistryError) -> Int64 {
        var received: Int64 = 0
        var failure: RegistryError?
        var statusSeen = 0
        var outcome: Result<NetResponse, RegistryError> = .failure(RegistryError("no answer"))
        withoutActuallyEscaping(sink) { sink in
            do throws(RegistryError) {
                outcome = .success(try send(NetRequest("GET", "\(base)/blobs/\(digest)", followRedirects: true,
                                                       resumeFrom: offset > 0 ? offset : nil)) { chunk in
                    do throws(RegistryError) {
                        try sink(chunk)
                        received += Int64(chunk.count)
                        return true
                    } catch {
                        failure = error
                        return false
                    }
                })
            } catch {
                outcome = .failure(error)
            }
        }
        let response = try outcome.get()
        statusSeen = response.status
        if let failure { throw failure }
        guard statusSeen == 200 || statusSeen == 206 else { throw self.failure("blob \(digest)", response) }
        if offset > 0 && statusSeen == 200 {
            throw RegistryError("blob \(digest): the registry ignored the Range request and sent the whole blob again", transient: true)
        }
        return received
    }

    // MARK: - Pushing

    /// Uploads `length` bytes of `file` from `offset` as blob `digest`, unless the repository has it already.
    /// Returns whether bytes were sent.
    @discardableResult
    public func pushBlob(_ digest: Digest, file: FileDescriptor, offset: Int64 = 0, length: Int64,
                         progress: ((Int64) -> Void)? = nil) throws(RegistryError) -> Bool {
        if let size = try blobSize(digest), size == length {
            progress?(length)
            return false
        }
        let start = try send(NetRequest("POST", "\(base)/blobs/uploads/"))
        guard start.status == 202, var location = start.header("Location") else { throw failure("starting the upload of \(digest)", start) }
        var sent: Int64 = 0
        while sent < length {
            let count = min(Self.uploadChunkBytes, length - sent)
            let patch = try send(NetRequest("PATCH", absolute(location), headers: [
                ("Content-Type", "application/octet-stream"), ("Content-Range", "\(sent)-\(sent + count - 1)"),
            ], body: .file(file, offset: offset + sent, length: count)))
            guard patch.status == 202, let next = patch.header("Location") else { throw failure("uploading \(digest)", patch) }
            location = next
            sent += count
            progress?(sent)
        }
        let separator = location.contains("?") ? "&" : "?"
        let finish = try send(NetRequest("PUT", absolute(location) + separator + "digest=" + Self.percentEncoded(digest.description),
                                         headers: [("Content-Type", "application/octet-stream")]))
        guard finish.status == 201 else { throw failure("finishing the upload of \(digest)", finish) }
        return true
    }

    /// Uploads small bytes (a manifest's config, a signature) as a blob.
    public func pushBlob(_ bytes: [UInt8]) throws(RegistryError) -> Digest {
        let digest = try Self.digest(bytes)
        if let size = try blobSize(digest), size == Int64(bytes.count) { return digest }
        let start = try send(NetRequest("POST", "\(base)/blobs/uploads/"))
        guard start.status == 202, let location = start.header("Location") else { throw failure("starting the upload of \(digest)", start) }
        let separator = location.contains("?") ? "&" : "?"
        let finish = try send(NetRequest("PUT", absolute(location) + separator + "digest=" + Self.percentEncoded(digest.description),
                                         headers: [("Content-Type", "application/octet-stream")], body: .bytes(bytes)))
        guard finish.status == 201 else { throw failure("uploading \(digest)", finish) }
        return digest
    }

    /// PUTs a manifest under `reference` (a tag); returns its digest.
    @discardableResult
    public func pushManifest(_ bytes: [UInt8], mediaType: String, reference: String) throws(RegistryError) -> Digest {
        let response = try send(NetRequest("PUT", "\(base)/manifests/\(reference)", headers: [("Content-Type", mediaType)], body: .bytes(bytes)))
        guard response.status == 201 else { throw failure("manifest \(reference)", response) }
        return try Self.digest(bytes)
    }

    /// Upload locations may be relative to the registry.
    func absolute(_ location: String) -> String {
        location.hasPrefix("http://") || location.hasPrefix("https://") ? location : registry + (location.hasPrefix("/") ? "" : "/") + location
    }

    static func digest(_ bytes: [UInt8]) throws(RegistryError) -> Digest {
        do {
            return try Digest.of(bytes)
        } catch {
            throw RegistryError("\(error)")
        }
    }
}
