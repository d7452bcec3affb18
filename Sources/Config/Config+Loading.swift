// Turning configuration text or a file into a `Config`: the sections and keys the file may hold, and the rule
// each value must meet. Anything else in the file is an error, so a misspelt key is never silently ignored.
import Platform

extension Config {
    /// Parses TOML text on top of the defaults; `file` names it in errors. Syntax errors and settings that
    /// break a rule are both `TOMLError`s, the first in file order.
    public static func parse(_ text: String, file: String) throws(TOMLError) -> Config {
        try decode(TOML.parse(text, file: file), file: file)
    }

    /// Reads and parses the file at `path`. When `mustExist` is false, a missing file (ENOENT) gives the
    /// defaults. Throws `SystemError` (naming the path) when the file cannot be read, `TOMLError` when its
    /// contents are wrong.
    public static func load(path: String, mustExist: Bool) throws -> Config {
        guard let bytes = try contents(of: path) else {
            if mustExist { throw SystemError("open", path, errno: .noEntry) }
            return Config()
        }
        return try decode(TOML.parse(utf8: bytes, file: path), file: path)
    }

    /// A real configuration is a few hundred bytes; anything near this is not one, and is not read whole.
    static let maxFileBytes = 1 << 20

    /// The file's bytes, or nil when it does not exist.
    private static func contents(of path: String) throws(SystemError) -> [UInt8]? {
        let descriptor: FileDescriptor
        do throws(SystemError) {
            descriptor = try FileDescriptor.open(path, .readOnly)
        } catch {
            if error.errno == .noEntry { return nil }
            throw error
        }
        defer { descriptor.close() }
        do throws(SystemError) {
            return try descriptor.readAll(limit: maxFileBytes)
        } catch {
            throw SystemError("read", path, errno: error.errno)
        }
    }

    // MARK: Schema

    /// One key of a section, and how its value goes into a `Config`.
    private struct Setting: Sendable {
        let key: String
        let apply: @Sendable (inout Config, ConfigValue) throws(TOMLError) -> Void
    }

    private struct Section: Sendable {
        let name: String
        let settings: [Setting]
    }

    /// Timeouts longer than a day are mistakes, and would overflow the clocks they are added to if unbounded.
    private static let maxTimeoutSeconds = 86_400

    private static let schema: [Section] = [
        Section(name: "server", settings: [
            Setting(key: "socket") { config, value throws(TOMLError) in
                // sun_path is 108 bytes, one of them the terminating NUL.
                config.socketPath = try value.absolutePath(maxBytes: 107)
            },
            Setting(key: "socket_mode") { config, value throws(TOMLError) in
                config.socketMode = try value.permissions()
            },
            Setting(key: "max_connections") { config, value throws(TOMLError) in
                config.maxConnections = Int(try value.integer(in: 1...1_000_000))
            },
            Setting(key: "max_body_bytes") { config, value throws(TOMLError) in
                config.maxBodyBytes = Int(try value.integer(in: 1...(1 << 30)))
            },
            Setting(key: "header_timeout_seconds") { config, value throws(TOMLError) in
                config.headerTimeout = try value.seconds(zeroAllowed: false, limit: maxTimeoutSeconds)
            },
            Setting(key: "idle_timeout_seconds") { config, value throws(TOMLError) in
                config.idleTimeout = try value.seconds(zeroAllowed: false, limit: maxTimeoutSeconds)
            },
            Setting(key: "shutdown_timeout_seconds") { config, value throws(TOMLError) in
                config.shutdownTimeout = try value.seconds(zeroAllowed: true, limit: maxTimeoutSeconds)
            },
        ]),
        Section(name: "agent", settings: [
            Setting(key: "state_dir") { config, value throws(TOMLError) in
                // PATH_MAX is 4096 bytes including the NUL.
                config.stateDirectory = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "memory_budget_mb") { config, value throws(TOMLError) in
                config.memoryBudgetMiB = Int(try value.integer(in: 0...(1 << 30)))
            },
        ]),
        Section(name: "access", settings: [
            Setting(key: "client_group") { config, value throws(TOMLError) in
                config.clientGroup = try value.string()
            },
            Setting(key: "admin_group") { config, value throws(TOMLError) in
                config.adminGroup = try value.string()
            },
            Setting(key: "requests_per_minute") { config, value throws(TOMLError) in
                config.requestsPerMinute = Int(try value.integer(in: 0...1_000_000))
            },
            Setting(key: "burst") { config, value throws(TOMLError) in
                config.requestBurst = Int(try value.integer(in: 1...100_000))
            },
        ]),
        Section(name: "bundles", settings: [
            Setting(key: "trusted_dir") { config, value throws(TOMLError) in
                config.trustedDirectory = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "signatures_required") { config, value throws(TOMLError) in
                config.signaturesRequired = Int(try value.integer(in: 1...64))
            },
        ]),
        Section(name: "store", settings: [
            Setting(key: "key_file") { config, value throws(TOMLError) in
                config.storeKeyFile = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "keep_versions") { config, value throws(TOMLError) in
                config.keepVersions = Int(try value.integer(in: 1...100))
            },
            Setting(key: "min_free_mb") { config, value throws(TOMLError) in
                config.minFreeMiB = Int(try value.integer(in: 0...(1 << 30)))
            },
        ]),
        Section(name: "sync", settings: [
            Setting(key: "registry") { config, value throws(TOMLError) in
                let url = try value.string()
                guard (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.utf8.count <= 2048 && !url.contains(" ") else {
                    throw value.error("must be an https:// (or, on a loopback address, http://) URL, found \"\(url)\"")
                }
                config.syncRegistry = url
            },
            Setting(key: "repository") { config, value throws(TOMLError) in
                let name = try value.string()
                guard !name.isEmpty, name.utf8.count <= 255, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || "._-/".utf8.contains($0) }) else {
                    throw value.error("must be a repository path of lower-case letters, digits, '.', '_', '-' and '/', found \"\(name)\"")
                }
                config.syncRepository = name
            },
            Setting(key: "channel") { config, value throws(TOMLError) in
                let name = try value.string()
                guard !name.isEmpty, name.utf8.count <= 128, name.utf8.allSatisfy({ ($0 >= 97 && $0 <= 122) || ($0 >= 65 && $0 <= 90) || ($0 >= 48 && $0 <= 57) || "._-".utf8.contains($0) }),
                      name.first != "." && name.first != "-" else {
                    throw value.error("must be a channel (tag) name such as stable, found \"\(name)\"")
                }
                config.syncChannel = name
            },
            Setting(key: "interval_seconds") { config, value throws(TOMLError) in
                config.syncIntervalSeconds = Int(try value.integer(in: 1...86_400))
            },
            Setting(key: "allow_insecure") { config, value throws(TOMLError) in
                config.syncAllowInsecure = try value.bool()
            },
            Setting(key: "ca_file") { config, value throws(TOMLError) in
                config.syncCAFile = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "client_certificate") { config, value throws(TOMLError) in
                config.syncClientCertificate = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "client_key") { config, value throws(TOMLError) in
                config.syncClientKey = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "max_bytes_per_second") { config, value throws(TOMLError) in
                config.syncMaxBytesPerSecond = Int(try value.integer(in: 0...(1 << 40)))
            },
            Setting(key: "auth_file") { config, value throws(TOMLError) in
                config.syncAuthFile = try value.absolutePath(maxBytes: 4095)
            },
        ]),
        Section(name: "telemetry", settings: [
            Setting(key: "spool_max_mb") { config, value throws(TOMLError) in
                config.spoolMaxMiB = Int(try value.integer(in: 1...(1 << 20)))
            },
            Setting(key: "endpoint") { config, value throws(TOMLError) in
                let url = try value.string()
                guard (url.hasPrefix("https://") || url.hasPrefix("http://")) && url.utf8.count <= 2048 && !url.contains(" ") else {
                    throw value.error("must be an https:// (or, on a loopback address, http://) URL, found \"\(url)\"")
                }
                config.telemetryEndpoint = url
            },
            Setting(key: "export_interval_seconds") { config, value throws(TOMLError) in
                config.exportIntervalSeconds = Int(try value.integer(in: 1...86_400))
            },
            Setting(key: "site_id") { config, value throws(TOMLError) in
                let id = try value.string()
                guard (1...128).contains(id.utf8.count) else { throw value.error("must be 1 to 128 bytes") }
                config.siteID = id
            },
            Setting(key: "allow_insecure") { config, value throws(TOMLError) in
                config.telemetryAllowInsecure = try value.bool()
            },
            Setting(key: "ca_file") { config, value throws(TOMLError) in
                config.telemetryCAFile = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "client_certificate") { config, value throws(TOMLError) in
                config.telemetryClientCertificate = try value.absolutePath(maxBytes: 4095)
            },
            Setting(key: "client_key") { config, value throws(TOMLError) in
                config.telemetryClientKey = try value.absolutePath(maxBytes: 4095)
            },
        ]),
        Section(name: "log", settings: [
            Setting(key: "level") { config, value throws(TOMLError) in
                config.logLevel = try value.named(LogSeverity.allCases, \.name)
            },
            Setting(key: "format") { config, value throws(TOMLError) in
                config.logFormat = try value.choice(of: LogFormat.self)
            },
        ]),
    ]

    // MARK: Decoding

    /// Keys of a `[models.NAME]` table.
    private static let modelSettings: [String: @Sendable (inout ModelConfig, ConfigValue) throws(TOMLError) -> Void] = [
        "path": { model, value throws(TOMLError) in model.path = try value.absolutePath(maxBytes: 4095) },
        "bundle": { model, value throws(TOMLError) in
            let name = try value.string()
            guard ModelConfig.isValidBundleName(name) else {
                throw value.error("must name an installed bundle (lower-case letters, digits, '.', '_', '-'), found \"\(name)\"")
            }
            model.bundle = name
        },
        "context": { model, value throws(TOMLError) in model.contextLength = Int(try value.integer(in: 16...(1 << 20))) },
        "threads": { model, value throws(TOMLError) in model.threads = Int(try value.integer(in: 0...256)) },
        "parallel": { model, value throws(TOMLError) in model.parallel = Int(try value.integer(in: 1...64)) },
        "max_queue": { model, value throws(TOMLError) in model.maxQueue = Int(try value.integer(in: 0...10_000)) },
        "preload": { model, value throws(TOMLError) in model.preload = try value.bool() },
        "keep_alive": { model, value throws(TOMLError) in model.keepAlive = Int(try value.integer(in: 0...(365 * 86_400))) },
        "result_cache_bytes": { model, value throws(TOMLError) in model.resultCacheBytes = Int(try value.integer(in: 0...(1 << 34))) },
        "request_timeout": { model, value throws(TOMLError) in model.requestTimeout = Int(try value.integer(in: 1...86_400)) },
        "allow_users": { model, value throws(TOMLError) in model.allowUsers = try value.names() },
        "allow_groups": { model, value throws(TOMLError) in model.allowGroups = try value.names() },
    ]

    private static func decodeModels(_ entry: TOMLTable.Entry, into config: inout Config, file: String) throws(TOMLError) {
        guard case .table(let models) = entry.value else {
            throw TOMLError(file: file, position: entry.valuePosition, message: "models must be a table of [models.NAME] tables")
        }
        for model in models.entries {
            guard case .table(let table) = model.value else {
                throw TOMLError(file: file, position: model.valuePosition,
                                message: "models.\(model.key) must be a table, found \(model.value.typeName)")
            }
            guard ModelConfig.isValidName(model.key) else {
                throw TOMLError(file: file, position: model.keyPosition,
                                message: "model name '\(model.key)' must be 1 to 64 letters, digits, '.', '-', '_' or ':'")
            }
            var parsed = ModelConfig(name: model.key, path: "")
            for item in table.entries {
                guard let apply = modelSettings[item.key] else {
                    throw unknown(["models", model.key, item.key], item, expected: Array(modelSettings.keys), file: file)
                }
                let name = TOMLKey.render(["models", model.key, item.key])
                try apply(&parsed, ConfigValue(file: file, name: name, value: item.value, position: item.valuePosition))
            }
            guard parsed.path.isEmpty != (parsed.bundle == nil) else {
                throw TOMLError(file: file, position: model.keyPosition,
                                message: parsed.path.isEmpty ? "models.\(model.key) needs a path or a bundle"
                                                             : "models.\(model.key) has both a path and a bundle; give one")
            }
            config.models.append(parsed)
        }
    }

    private static func decode(_ document: TOMLTable, file: String) throws(TOMLError) -> Config {
        var config = Config()
        for entry in document.entries {
            if entry.key == "models" {
                try decodeModels(entry, into: &config, file: file)
                continue
            }
            guard let section = schema.first(where: { $0.name == entry.key }) else {
                throw unknown([entry.key], entry, expected: schema.map(\.name) + ["models"], file: file)
            }
            guard case .table(let table) = entry.value else {
                let message = "\(entry.key) must be a table, found \(entry.value.typeName)"
                throw TOMLError(file: file, position: entry.valuePosition, message: message)
            }
            for item in table.entries {
                guard let setting = section.settings.first(where: { $0.key == item.key }) else {
                    throw unknown([entry.key, item.key], item, expected: section.settings.map(\.key), file: file)
                }
                let name = TOMLKey.render([entry.key, item.key])
                try setting.apply(&config, ConfigValue(file: file, name: name, value: item.value, position: item.valuePosition))
            }
        }
        return config
    }

    private static func unknown(_ path: [String], _ entry: TOMLTable.Entry, expected: [String], file: String) -> TOMLError {
        let kind = if case .table = entry.value { "table" } else { "key" }
        let message = "unknown \(kind) '\(TOMLKey.render(path))'; expected one of: \(expected.sorted().joined(separator: ", "))"
        return TOMLError(file: file, position: entry.keyPosition, message: message)
    }
}
