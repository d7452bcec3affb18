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
        ]),
        Section(name: "log", settings: [
            Setting(key: "level") { config, value throws(TOMLError) in
                config.logLevel = try value.choice(of: LogLevel.self)
            },
            Setting(key: "format") { config, value throws(TOMLError) in
                config.logFormat = try value.choice(of: LogFormat.self)
            },
        ]),
    ]

    // MARK: Decoding

    private static func decode(_ document: TOMLTable, file: String) throws(TOMLError) -> Config {
        var config = Config()
        for entry in document.entries {
            guard let section = schema.first(where: { $0.name == entry.key }) else {
                throw unknown([entry.key], entry, expected: schema.map(\.name), file: file)
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
