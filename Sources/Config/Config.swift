// The daemon's settings, each with the value it runs with when the configuration file does not set it.
import Platform

/// Everything `outpostd` takes from its configuration file. Each property names its key; the rules each
/// value must meet are in `Config+Loading.swift`, next to the code that applies them.
public struct Config: Equatable, Sendable {
    /// Where `outpostd` looks for its configuration unless told otherwise.
    public static let defaultPath = "/etc/outpost/outpost.toml"

    // MARK: [server]

    /// `server.socket`: the Unix socket the API listens on. An absolute path of at most 107 bytes, since
    /// `sun_path` holds 108 including the terminating NUL.
    public var socketPath: String = "/run/outpost/outpost.sock"
    /// `server.socket_mode`: the socket's permission bits, at most 0o777; written `"0660"` or `0o660`.
    /// A decimal integer is taken as its decimal value, so `660` is refused as out of range.
    public var socketMode: UInt32 = 0o660
    /// `server.max_connections`: connections served at once, 1...1_000_000.
    public var maxConnections: Int = 4096
    /// `server.max_body_bytes`: the largest request body accepted, 1 byte ... 1 GiB.
    public var maxBodyBytes: Int = 8 << 20
    /// `server.header_timeout_seconds`: how long a client may take to send its request headers; above 0,
    /// at most a day. Timeouts take integers or floats.
    public var headerTimeout: Double = 10
    /// `server.idle_timeout_seconds`: how long a kept-alive connection may sit idle; above 0, at most a day.
    public var idleTimeout: Double = 75
    /// `server.shutdown_timeout_seconds`: how long requests in flight get to finish on shutdown; 0 to a day.
    public var shutdownTimeout: Double = 10

    // MARK: [agent]

    /// `agent.state_dir`: where the agent keeps models and state; an absolute path.
    public var stateDirectory: String = "/var/lib/outpost"

    // MARK: [log]

    /// `log.level`: the least severe level written.
    public var logLevel: LogSeverity = .info
    /// `log.format`: how log lines are written.
    public var logFormat: LogFormat = .auto

    // [models.NAME]
    /// Models the agent serves, by the name clients use; in file order.
    public var models: [ModelConfig] = []

    /// MiB all loaded models together may hold (weights, KV caches, buffers); 0: 90% of physical memory.
    public var memoryBudgetMiB: Int = 0

    // [access]
    /// Members of this group (and root) may use every model that does not list its own allowed users/groups.
    public var clientGroup: String = "outpost"
    /// Members of this group (and root) may call /v1/admin/... routes.
    public var adminGroup: String = "outpost-admin"
    /// Model requests per minute per client uid (0: no limit), and how many may come at once.
    public var requestsPerMinute: Int = 0
    public var requestBurst: Int = 10

    // [bundles]
    /// Directory of minisign public keys (`*.pub`) trusted to sign bundles.
    public var trustedDirectory: String = "/etc/outpost/trusted.d"
    /// Distinct trusted keys that must have signed a bundle.
    public var signaturesRequired: Int = 1

    // [store]
    /// The store key file when not given as the systemd credential outpost-store.key (development, tests).
    public var storeKeyFile: String?
    /// Installed versions kept per model (the active one included); older ones are removed after an install.
    public var keepVersions: Int = 2
    /// MiB of the state directory's file system an install must leave free.
    public var minFreeMiB: Int = 512

    // [sync]
    /// The registry to follow (https://host[:port]); sync is off without one.
    public var syncRegistry: String?
    public var syncRepository: String?
    public var syncChannel = "stable"
    public var syncIntervalSeconds = 300
    /// Plain http to a registry that is not on a loopback address.
    public var syncAllowInsecure = false
    public var syncCAFile: String?
    public var syncClientCertificate: String?
    public var syncClientKey: String?
    /// Bytes per second the sync may use (SMB uplinks are small); 0: no cap.
    public var syncMaxBytesPerSecond = 0
    /// A `user:password` file, when the credential outpost-registry.auth is not given.
    public var syncAuthFile: String?

    // [telemetry]
    /// MiB the telemetry spool may hold on disk; when full, the oldest metric snapshots and request summaries go
    /// first, audit events last.
    public var spoolMaxMiB = 256
    /// The central collector's OTLP/HTTP base URL; none: the spool keeps everything locally.
    public var telemetryEndpoint: String?
    public var exportIntervalSeconds = 60
    /// Names this site in what the collector receives (default: the host name).
    public var siteID: String?
    public var telemetryAllowInsecure = false
    public var telemetryCAFile: String?
    public var telemetryClientCertificate: String?
    public var telemetryClientKey: String?

    /// The defaults.
    public init() {}
}

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// Journal fields when stderr is connected to the journal (`$JOURNAL_STREAM` matches it), text otherwise.
    case auto
    /// One line of text per record.
    case text
    /// Structured fields sent to the journal.
    case journal
}

/// One `[models.NAME]` table.
public struct ModelConfig: Equatable, Sendable {
    public var name: String
    /// The GGUF file served; empty when the model comes from the store (`bundle`).
    public var path: String
    /// The installed bundle whose active version is served (instead of `path`).
    public var bundle: String?
    /// Context length in tokens.
    public var contextLength: Int = 2048
    /// Worker threads for this model (0: one per CPU).
    public var threads: Int = 0
    /// Sequences generated together in one batch (continuous batching); each has its own KV cache.
    public var parallel: Int = 4
    /// Requests waiting for a free sequence; more get 429.
    public var maxQueue: Int = 16
    /// Seconds a request may take from its arrival to its last token; past it the request ends with an error.
    public var requestTimeout: Int = 600
    /// Load at start (true) or on the first request for it (false).
    public var preload: Bool = true
    /// Seconds without requests after which the model is unloaded (it loads again on the next request); 0: never.
    public var keepAlive: Int = 0
    /// Bytes of exact results of deterministic requests kept for repeats; 0 disables.
    public var resultCacheBytes: Int = 8 << 20
    /// Users and groups allowed to use the model; both empty means the [access] client group.
    public var allowUsers: [String] = []
    public var allowGroups: [String] = []

    public init(name: String, path: String) {
        self.name = name
        self.path = path
    }
}

extension ModelConfig {
    /// Bundle names as `outpost bundle create` accepts them.
    public static func isValidBundleName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        func alnum(_ b: UInt8) -> Bool { (b >= 97 && b <= 122) || (b >= 48 && b <= 57) }
        return (1...128).contains(bytes.count) && alnum(bytes.first!) && alnum(bytes.last!) && !name.contains("..")
            && bytes.allSatisfy { alnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    /// Names clients put in "model": letters, digits and . - _ : (so they are safe in paths, logs and labels).
    public static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 64
            && name.unicodeScalars.allSatisfy { ($0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0))) || ".-_:".unicodeScalars.contains($0) }
    }
}
