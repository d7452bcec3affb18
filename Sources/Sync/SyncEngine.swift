// Following a release channel: on start and every interval (with jitter, and exponential backoff after a failure)
// read the channel's release, verify it (signatures, number never lower than the highest accepted, expiry), and
// for each bundle it names that is not the active version: fetch the bundle by the manifest digest the release
// names into a staging layout (blobs resumed with Range after a dropped link or a restart, each checked against
// its digest), then hand it to the site to verify, store and activate through the smoke-tested path. Serving
// never waits on any of this; a refusal keeps what is serving and is reported.
import Bundles
import Dispatch
import Platform
import Sodium
import Synchronization

/// What the sync engine needs from the agent.
public protocol SyncSite: Sendable {
    /// The verifier of today's trusted keys and threshold.
    func verifier() throws(BundleError) -> BundleVerifier
    func acceptedRelease(_ channel: String) -> Int64?
    func acceptRelease(_ channel: String, _ number: Int64) throws
    /// The active version of bundle `name`, and whether `version` is installed and good (not failed).
    func activeVersion(_ name: String) -> SemanticVersion?
    func isInstalled(_ name: String, _ version: SemanticVersion) -> Bool
    /// Verifies, stores and activates the bundle in directory `path` (smoke test included); throws why not.
    func install(bundleAt path: String) throws
    func activate(_ name: String, _ version: SemanticVersion) throws
    /// A refusal worth an alert (replayed or expired release, untrusted signature, a blob that does not match).
    func alert(_ message: String, reason: String)
}

public struct SyncSettings: Sendable {
    public var channel: String
    public var intervalSeconds: Double
    /// Where partial downloads live between attempts and restarts.
    public var stagingDirectory: String

    public init(channel: String, intervalSeconds: Double, stagingDirectory: String) {
        self.channel = channel
        self.intervalSeconds = intervalSeconds
        self.stagingDirectory = stagingDirectory
    }
}

public struct SyncStatus: Sendable, Encodable {
    public struct Download: Sendable, Encodable {
        public var bundle: String
        public var blob: String
        public var bytes: Int64
        public var total: Int64
        public var bytesPerSecond: Double
        public var etaSeconds: Double?
        enum CodingKeys: String, CodingKey {
            case bundle, blob, bytes, total
            case bytesPerSecond = "bytes_per_second"
            case etaSeconds = "eta_seconds"
        }
    }

    public var registry: String
    public var repository: String
    public var channel: String
    public var release: Int64?
    public var releaseDigest: String?
    public var state = "starting"
    public var lastSuccess: String?
    public var lastError: String?
    public var lastErrorAt: String?
    public var nextAttempt: String?
    public var attempts = 0
    public var failures = 0
    public var downloading: Download?
    /// Bytes fetched from the registry since the agent started (resumed downloads count only what they fetch).
    public var bytesFetched: Int64 = 0
    /// What the registry's last Retry-After asked for, in seconds.
    public var retryAfter: Double?

    enum CodingKeys: String, CodingKey {
        case registry, repository, channel, release, state, attempts, failures, downloading
        case releaseDigest = "release_digest"
        case lastSuccess = "last_success"
        case lastError = "last_error"
        case lastErrorAt = "last_error_at"
        case nextAttempt = "next_attempt"
        case bytesFetched = "bytes_fetched"
        case retryAfter = "retry_after_seconds"
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(registry, forKey: .registry)
        try c.encode(repository, forKey: .repository)
        try c.encode(channel, forKey: .channel)
        try c.encode(release, forKey: .release)
        try c.encode(releaseDigest, forKey: .releaseDigest)
        try c.encode(state, forKey: .state)
        try c.encode(lastSuccess, forKey: .lastSuccess)
        try c.encode(lastError, forKey: .lastError)
        try c.encode(lastErrorAt, forKey: .lastErrorAt)
        try c.encode(nextAttempt, forKey: .nextAttempt)
        try c.encode(attempts, forKey: .attempts)
        try c.encode(failures, forKey: .failures)
        try c.encode(downloading, forKey: .downloading)
        try c.encode(bytesFetched, forKey: .bytesFetched)
        try c.encode(retryAfter, forKey: .retryAfter)
    }
}

public final class SyncEngine: Sendable {
    let client: RegistryClient
    let site: any SyncSite
    let settings: SyncSettings
    private let status: Mutex<SyncStatus>
    private let loop: PeriodicLoop
    /// Counts what happens, for the agent's metrics: (event, detail).
    let observe: @Sendable (String, String, Int64) -> Void

    public init(client: RegistryClient, site: any SyncSite, settings: SyncSettings,
                observe: @escaping @Sendable (String, String, Int64) -> Void = { _, _, _ in }) {
        self.client = client
        self.site = site
        self.settings = settings
        self.observe = observe
        let status = Mutex(SyncStatus(registry: client.registry, repository: client.repository, channel: settings.channel))
        self.status = status
        loop = PeriodicLoop(label: "outpost.sync", intervalSeconds: settings.intervalSeconds)
    }

    public var current: SyncStatus { status.withLock { $0 } }

    /// Runs checks until `stop()`, on a queue of its own (one long-lived thread).
    public func start() {
        loop.start(round: { [self] in runOnce() ? nil : (status.withLock { $0.retryAfter } ?? 0) },
                   scheduled: { [self] delay, failing in
            let next = UTCTimestamp.format(wholeSeconds: Int64(Clock.wallSeconds() + delay))
            status.withLock { $0.nextAttempt = next; $0.state = failing ? "backing off" : "idle" }
        })
    }

    public func stop() { loop.stop() }

    /// Checks now instead of at the next interval.
    public func checkNow() { loop.now() }

    /// One check; false when it failed (and is retried with backoff).
    @discardableResult
    public func runOnce() -> Bool {
        status.withLock { $0.attempts += 1; $0.state = "checking"; $0.retryAfter = nil }
        do {
            try check()
            let now = UTCTimestamp.format(wholeSeconds: Int64(Clock.wallSeconds()))
            status.withLock { $0.lastSuccess = now; $0.downloading = nil }
            observe("attempt", "ok", 0)
            return true
        } catch {
            let message = (error as? RegistryError)?.message ?? (error as? ReleaseError)?.message ?? "\(error)"
            let now = UTCTimestamp.format(wholeSeconds: Int64(Clock.wallSeconds()))
            let retryAfter = (error as? RegistryError)?.retryAfter
            status.withLock { $0.failures += 1; $0.lastError = message; $0.lastErrorAt = now; $0.downloading = nil; $0.retryAfter = retryAfter }
            observe("attempt", "failed", 0)
            return false
        }
    }

    private func check() throws {
        guard let fetched = try Releases.fetch(settings.channel, from: client) else {
            throw RegistryError("channel \(settings.channel) has no release yet in \(client.repository)", transient: true)
        }
        let verifier = try site.verifier()
        let (release, _): (ReleaseManifest, [String])
        do {
            (release, _) = try verifier.verifyRelease(document: fetched.document, signatures: fetched.signatures, channel: settings.channel,
                                                       atLeast: site.acceptedRelease(settings.channel) ?? 0)
        } catch {
            observe("refused", error.kind.rawValue, 0)
            site.alert("release refused: \(error.message); serving what it serves", reason: error.kind.rawValue)
            throw error
        }
        try site.acceptRelease(settings.channel, release.number)
        status.withLock { $0.release = release.number; $0.releaseDigest = fetched.digest.description }
        var problems: [String] = []
        for name in release.bundles.keys.sorted() {
            let entry = release.bundles[name]!
            if site.activeVersion(name) == entry.version { continue }
            do {
                if site.isInstalled(name, entry.version) {
                    try site.activate(name, entry.version)
                } else {
                    let directory = try download(name, entry)
                    try site.install(bundleAt: directory)
                    try? removeTree(directory)
                }
            } catch {
                problems.append("\(name) \(entry.version): \((error as? RegistryError)?.message ?? "\(error)")")
            }
        }
        guard problems.isEmpty else { throw RegistryError(problems.joined(separator: "; "), transient: true) }
    }

    /// Fetches the bundle `entry` names into `staging/<manifest hex>` as an image layout; blobs already there
    /// (whole or partial) are kept and completed.
    func download(_ name: String, _ entry: ReleaseManifest.Entry) throws -> String {
        let directory = settings.stagingDirectory + "/" + entry.manifest.hex
        try FileSystem.makeDirectory(settings.stagingDirectory, mode: 0o700, existingIsFine: true)
        try FileSystem.makeDirectory(directory, mode: 0o700, existingIsFine: true)
        try FileSystem.makeDirectory(directory + "/blobs", mode: 0o700, existingIsFine: true)
        try FileSystem.makeDirectory(directory + "/blobs/sha256", mode: 0o700, existingIsFine: true)
        let (bytes, _, _) = try client.manifest(entry.manifest.description)
        let manifest: OCIManifest
        do {
            manifest = try OCIManifest(parsing: bytes)
        } catch {
            throw RegistryError("bundle \(name): the manifest does not parse: \(error.message)")
        }
        guard manifest.artifactType == MediaType.bundle else { throw RegistryError("\(entry.manifest) is not an Outpost bundle") }
        for blob in [manifest.config] + manifest.layers {
            try fetch(blob, bundle: name, into: directory + "/" + blob.digest.blobPath)
        }
        try AtomicFile.write(bytes, to: directory + "/" + entry.manifest.blobPath, mode: 0o600)
        let index = OCIIndex(manifests: [OCIDescriptor(mediaType: MediaType.imageManifest, digest: entry.manifest, size: Int64(bytes.count),
                                                       artifactType: MediaType.bundle)])
        try AtomicFile.write(index.bytes, to: directory + "/index.json", mode: 0o600)
        try AtomicFile.write(OCILayout.fileBytes, to: directory + "/oci-layout", mode: 0o600)
        return directory
    }

    /// One blob, resumed from `path.partial` when an earlier attempt left part of it; checked against its digest.
    func fetch(_ blob: OCIDescriptor, bundle: String, into path: String) throws {
        if let status = try FileSystem.linkStatus(path), status.size == blob.size { return }
        let partial = path + ".partial"
        var hasher = try SHA256()
        var have: Int64 = 0
        if let status = try FileSystem.linkStatus(partial), status.kind == .regular, status.size <= blob.size {
            // What arrived before is hashed again (from disk, no network), then the rest is asked for.
            let fd = try FileDescriptor.open(partial, .readOnly)
            defer { fd.close() }
            var offset: Int64 = 0
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
            defer { buffer.deallocate() }
            while offset < status.size {
                let want = Int(min(Int64(buffer.count), status.size - offset))
                let slice = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<want])
                try fd.readExactly(into: slice, at: offset)
                hasher.update(UnsafeRawBufferPointer(slice))
                offset += Int64(want)
            }
            have = status.size
        } else {
            try? FileSystem.remove(partial)
        }
        let out = try FileDescriptor.open(partial, [.writeOnly, .create, .append, .noFollow], mode: 0o600)
        defer { out.close() }
        let started = Clock.monotonicNanoseconds()
        let resumedAt = have
        status.withLock { $0.downloading = SyncStatus.Download(bundle: bundle, blob: blob.digest.description, bytes: have, total: blob.size,
                                                                bytesPerSecond: 0, etaSeconds: nil) }
        if have < blob.size {
            _ = try client.fetchBlob(blob.digest, from: have) { (chunk) throws(RegistryError) in
                guard have + Int64(chunk.count) <= blob.size else { throw RegistryError("blob \(blob.digest) is longer than its \(blob.size) bytes") }
                do {
                    try out.writeAll(chunk)
                } catch {
                    throw RegistryError("cannot store \(blob.digest): \(error)", transient: true)
                }
                hasher.update(chunk)
                have += Int64(chunk.count)
                let seconds = max(Double(Clock.monotonicNanoseconds() - started) / 1e9, 1e-3)
                let rate = Double(have - resumedAt) / seconds
                status.withLock {
                    $0.bytesFetched += Int64(chunk.count)
                    $0.downloading = SyncStatus.Download(bundle: bundle, blob: blob.digest.description, bytes: have, total: blob.size,
                                                          bytesPerSecond: rate, etaSeconds: rate > 0 ? Double(blob.size - have) / rate : nil)
                }
                observe("bytes", "", Int64(chunk.count))
            }
        }
        guard have == blob.size else { throw RegistryError("blob \(blob.digest) ended after \(have) of \(blob.size) bytes", transient: true) }
        let digest = Digest(sha256: hasher.finish())
        guard digest == blob.digest else {
            try? FileSystem.remove(partial)
            site.alert("blob \(blob.digest) of \(bundle) arrived with digest \(digest); discarded, retried later", reason: "digest")
            observe("refused", "digest", 0)
            throw RegistryError("blob \(blob.digest) arrived with digest \(digest) (altered in transit or by the registry)", transient: true)
        }
        try out.sync()
        try FileSystem.rename(partial, to: path)
    }

    func removeTree(_ path: String) throws {
        for name in try FileSystem.listDirectory(path) {
            let full = path + "/" + name
            if try FileSystem.linkStatus(full)?.kind == .directory { try removeTree(full) } else { try FileSystem.remove(full) }
        }
        try FileSystem.removeDirectory(path)
    }
}
