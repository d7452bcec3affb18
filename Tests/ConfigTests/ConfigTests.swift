import Platform
import TestKit
import XCTest
@testable import Config

/// The daemon's configuration: defaults, every key, every rule a value must meet, files on disk, and a
/// randomized check that no input crashes the parser or yields a position outside the text.
final class ConfigTests: XCTestCase {
    static let fullExample = """
        # Outpost configuration: every key set.
        [server]
        socket = "/run/outpost/api.sock"
        socket_mode = "0600"
        max_connections = 128
        max_body_bytes = 1_048_576
        header_timeout_seconds = 2.5
        idle_timeout_seconds = 30
        shutdown_timeout_seconds = 0

        [agent]
        state_dir = '/srv/outpost'

        [bundles]
        trusted_dir = "/srv/keys"
        signatures_required = 2

        [store]
        key_file = "/srv/store.key"
        keep_versions = 3
        min_free_mb = 0

        [telemetry]
        spool_max_mb = 64
        endpoint = "https://collector.example.com:4318"
        export_interval_seconds = 30
        site_id = "shop-42"
        allow_insecure = false
        ca_file = "/etc/outpost/collector-ca.pem"
        client_certificate = "/etc/outpost/site.pem"
        client_key = "/etc/outpost/site.key"

        [sync]
        registry = "https://registry.example.com:5000"
        repository = "fleet/models"
        channel = "canary"
        interval_seconds = 60
        allow_insecure = false
        ca_file = "/etc/outpost/ca.pem"
        client_certificate = "/etc/outpost/site.pem"
        client_key = "/etc/outpost/site.key"
        max_bytes_per_second = 1000000
        auth_file = "/etc/outpost/registry.auth"

        [log]
        level = "debug"   # chatty while testing
        format = "journal"

        """

    // MARK: Values

    func testDefaults() {
        let config = Config()
        XCTAssertEqual(config.socketPath, "/run/outpost/outpost.sock")
        XCTAssertEqual(config.socketMode, 0o660)
        XCTAssertEqual(config.maxConnections, 4096)
        XCTAssertEqual(config.maxBodyBytes, 8_388_608)
        XCTAssertEqual(config.headerTimeout, 10)
        XCTAssertEqual(config.idleTimeout, 75)
        XCTAssertEqual(config.shutdownTimeout, 10)
        XCTAssertEqual(config.stateDirectory, "/var/lib/outpost")
        XCTAssertEqual(config.logLevel, .info)
        XCTAssertEqual(config.logFormat, .auto)
        XCTAssertEqual(Config.defaultPath, "/etc/outpost/outpost.toml")
    }

    func testEmptyTextGivesDefaults() throws {
        XCTAssertEqual(try Config.parse("", file: "c.toml"), Config())
        XCTAssertEqual(try Config.parse("# nothing\n[server]\n[agent]\n[log]\n", file: "c.toml"), Config())
    }

    func testFullExample() throws {
        var expected = Config()
        expected.socketPath = "/run/outpost/api.sock"
        expected.socketMode = 0o600
        expected.maxConnections = 128
        expected.maxBodyBytes = 1_048_576
        expected.headerTimeout = 2.5
        expected.idleTimeout = 30
        expected.shutdownTimeout = 0
        expected.stateDirectory = "/srv/outpost"
        expected.logLevel = .debug
        expected.logFormat = .journal
        expected.trustedDirectory = "/srv/keys"
        expected.signaturesRequired = 2
        expected.storeKeyFile = "/srv/store.key"
        expected.keepVersions = 3
        expected.minFreeMiB = 0
        expected.syncRegistry = "https://registry.example.com:5000"
        expected.syncRepository = "fleet/models"
        expected.syncChannel = "canary"
        expected.syncIntervalSeconds = 60
        expected.syncCAFile = "/etc/outpost/ca.pem"
        expected.syncClientCertificate = "/etc/outpost/site.pem"
        expected.syncClientKey = "/etc/outpost/site.key"
        expected.syncMaxBytesPerSecond = 1_000_000
        expected.syncAuthFile = "/etc/outpost/registry.auth"
        expected.spoolMaxMiB = 64
        expected.telemetryEndpoint = "https://collector.example.com:4318"
        expected.exportIntervalSeconds = 30
        expected.siteID = "shop-42"
        expected.telemetryCAFile = "/etc/outpost/collector-ca.pem"
        expected.telemetryClientCertificate = "/etc/outpost/site.pem"
        expected.telemetryClientKey = "/etc/outpost/site.key"
        XCTAssertEqual(try Config.parse(Self.fullExample, file: "c.toml"), expected)
    }

    func testPartialFileKeepsOtherDefaults() throws {
        var expected = Config()
        expected.logLevel = .warning
        expected.maxConnections = 1
        XCTAssertEqual(try Config.parse("server.max_connections = 1\nlog.level = \"warning\"", file: "c.toml"), expected)
    }

    func testSocketModeForms() throws {
        let cases: [(String, UInt32)] = [
            (#""0600""#, 0o600), (#""755""#, 0o755), (#""0""#, 0), (#""0000000000000000000000777""#, 0o777),
            ("0o640", 0o640), ("416", 0o640), ("0", 0), ("511", 0o777),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try Config.parse("[server]\nsocket_mode = \(text)", file: "c.toml").socketMode, expected, text)
        }
    }

    func testBoundaryValuesAreAccepted() throws {
        let longest = "/" + String(repeating: "s", count: 106)
        let config = try Config.parse("""
            [server]
            socket = "\(longest)"
            max_connections = 1_000_000
            max_body_bytes = 1073741824
            header_timeout_seconds = 86400
            idle_timeout_seconds = 0.001
            shutdown_timeout_seconds = 86400.0
            [log]
            level = "error"
            format = "text"
            """, file: "c.toml")
        XCTAssertEqual(config.socketPath.utf8.count, 107)
        XCTAssertEqual(config.maxConnections, 1_000_000)
        XCTAssertEqual(config.maxBodyBytes, 1 << 30)
        XCTAssertEqual(config.headerTimeout, 86400)
        XCTAssertEqual(config.idleTimeout, 0.001)
        XCTAssertEqual(config.shutdownTimeout, 86400)
        XCTAssertEqual(config.logLevel, .error)
        XCTAssertEqual(config.logFormat, .text)
    }

    func testEveryLogSeverityAndFormat() throws {
        for level in LogSeverity.allCases {
            XCTAssertEqual(try Config.parse("log.level = \"\(level.name)\"", file: "c.toml").logLevel, level)
        }
        for format in LogFormat.allCases {
            XCTAssertEqual(try Config.parse("log.format = '\(format.rawValue)'", file: "c.toml").logFormat, format)
        }
        XCTAssertEqual(LogSeverity.allCases.map(\.name), ["debug", "info", "notice", "warning", "error"])
        XCTAssertEqual(LogFormat.allCases.map(\.rawValue), ["auto", "text", "journal"])
    }

    func testLogSeveritysOrderBySeverity() {
        XCTAssertLessThan(LogSeverity.debug, .info)
        XCTAssertLessThan(LogSeverity.info, .notice)
        XCTAssertLessThan(LogSeverity.notice, .warning)
        XCTAssertLessThan(LogSeverity.warning, .error)
        XCTAssertFalse(LogSeverity.error < .debug)
        XCTAssertFalse(LogSeverity.info < .info)
        XCTAssertEqual([LogSeverity.error, .debug, .warning, .info, .notice].sorted(), LogSeverity.allCases)
    }

    // MARK: Errors

    func testModelTables() throws {
        let config = try Config.parse("""
            [models.gemma]
            path = "/models/g.gguf"
            context = 4096
            threads = 2
            max_queue = 3
            allow_users = ["alice"]
            allow_groups = ["till", "erp"]

            [models."small-1"]
            path = "/models/s.gguf"

            [models.assistant]
            bundle = "support-bot"
            parallel = 2

            [access]
            client_group = "apps"
            """, file: "m.toml")
        var gemma = ModelConfig(name: "gemma", path: "/models/g.gguf")
        gemma.contextLength = 4096
        gemma.threads = 2
        gemma.maxQueue = 3
        gemma.allowUsers = ["alice"]
        gemma.allowGroups = ["till", "erp"]
        var assistant = ModelConfig(name: "assistant", path: "")
        assistant.bundle = "support-bot"
        assistant.parallel = 2
        XCTAssertEqual(config.models, [gemma, ModelConfig(name: "small-1", path: "/models/s.gguf"), assistant])
        XCTAssertEqual(config.clientGroup, "apps")
        XCTAssertEqual(config.adminGroup, "outpost-admin")
    }

    func testUnknownTablesAndKeys() {
        let sections = "expected one of: access, agent, bundles, log, models, server, store, sync, telemetry"
        let serverKeys = "expected one of: header_timeout_seconds, idle_timeout_seconds, max_body_bytes, max_connections, shutdown_timeout_seconds, socket, socket_mode"
        assertError("[sever]\nsocket = \"/x\"", "c.toml:1:2: unknown table 'sever'; \(sections)")
        assertError("[models.\"my-model\"]\ncontext = 64", "c.toml:1:9: models.my-model needs a path or a bundle")
        assertError("[models.m]\npath = \"/m\"\ncontxt = 64", "c.toml:3:1: unknown key 'models.m.contxt'; expected one of: allow_groups, allow_users, bundle, context, keep_alive, max_queue, parallel, path, preload, request_timeout, result_cache_bytes, threads")
        assertError("[models.m]\npath = \"m.gguf\"", "c.toml:2:8: models.m.path must be an absolute path, found \"m.gguf\"")
        assertError("[models.\"a b\"]\npath = \"/m\"", "c.toml:1:9: model name 'a b' must be 1 to 64 letters, digits, '.', '-', '_' or ':'")
        assertError("[models.m]\npath = \"/m\"\nallow_users = [\"ok\", 3]", "c.toml:3:15: models.m.allow_users must be an array of strings, found array")
        assertError("  sever = 1", "c.toml:1:3: unknown key 'sever'; \(sections)")
        assertError("[server]\nsokcet = \"/x\"", "c.toml:2:1: unknown key 'server.sokcet'; \(serverKeys)")
        assertError("[server]\n  max_connections = 10\n  [server.tls]", "c.toml:3:11: unknown table 'server.tls'; \(serverKeys)")
        assertError("[log]\n\"my level\" = 1", #"c.toml:2:1: unknown key 'log."my level"'; expected one of: format, level"#)
        assertError("agent.state = '/x'", "c.toml:1:7: unknown key 'agent.state'; expected one of: memory_budget_mb, state_dir")
    }

    func testWrongTypes() {
        assertError("server = 1", "c.toml:1:10: server must be a table, found integer")
        assertError("log = [\"debug\"]", "c.toml:1:7: log must be a table, found array")
        assertError("[server]\nmax_connections = \"many\"", "c.toml:2:19: server.max_connections must be an integer, found string")
        assertError("server.max_connections = 1.5", "c.toml:1:26: server.max_connections must be an integer, found float")
        assertError("[server]\nmax_body_bytes = true", "c.toml:2:18: server.max_body_bytes must be an integer, found boolean")
        assertError("[server]\nshutdown_timeout_seconds = \"10s\"", "c.toml:2:28: server.shutdown_timeout_seconds must be a number, found string")
        assertError("[server]\nsocket = 5", "c.toml:2:10: server.socket must be a string, found integer")
        assertError("[server.socket]", "c.toml:1:9: server.socket must be a string, found table")
        assertError("[server]\nsocket_mode = true", "c.toml:2:15: server.socket_mode must be a string of octal digits or an integer, found boolean")
        assertError("[agent]\nstate_dir = [\"/a\"]", "c.toml:2:13: agent.state_dir must be a string, found array")
        assertError("[log]\nlevel = 3", "c.toml:2:9: log.level must be a string, found integer")
    }

    func testOutOfRange() {
        assertError("[server]\nmax_connections = 0", "c.toml:2:19: server.max_connections must be between 1 and 1000000, found 0")
        assertError("[server]\nmax_connections = 1_000_001", "c.toml:2:19: server.max_connections must be between 1 and 1000000, found 1000001")
        assertError("[server]\nmax_body_bytes = -5", "c.toml:2:18: server.max_body_bytes must be between 1 and 1073741824, found -5")
        assertError("[server]\nmax_body_bytes = 0x40000001", "c.toml:2:18: server.max_body_bytes must be between 1 and 1073741824, found 1073741825")
        let positive = "must be greater than 0 and at most 86400"
        assertError("[server]\nheader_timeout_seconds = 0", "c.toml:2:26: server.header_timeout_seconds \(positive), found 0")
        assertError("[server]\nheader_timeout_seconds = inf", "c.toml:2:26: server.header_timeout_seconds \(positive), found inf")
        assertError("[server]\nidle_timeout_seconds = -1.5", "c.toml:2:24: server.idle_timeout_seconds \(positive), found -1.5")
        assertError("[server]\nidle_timeout_seconds = nan", "c.toml:2:24: server.idle_timeout_seconds \(positive), found nan")
        assertError("[server]\nidle_timeout_seconds = 86401", "c.toml:2:24: server.idle_timeout_seconds \(positive), found 86401")
        assertError("[server]\nshutdown_timeout_seconds = -1", "c.toml:2:28: server.shutdown_timeout_seconds must be between 0 and 86400, found -1")
        assertError("[sync]\nregistry = \"ftp://x\"", "c.toml:2:12: sync.registry must be an https:// (or, on a loopback address, http://) URL, found \"ftp://x\"")
        assertError("[sync]\nchannel = \"-x\"", "c.toml:2:11: sync.channel must be a channel (tag) name such as stable, found \"-x\"")
        assertError("[store]\nkeep_versions = 0", "c.toml:2:17: store.keep_versions must be between 1 and 100, found 0")
        assertError("[models.m]\nbundle = \"Support Bot\"", "c.toml:2:10: models.m.bundle must name an installed bundle (lower-case letters, digits, '.', '_', '-'), found \"Support Bot\"")
        assertError("[models.m]\npath = \"/m.gguf\"\nbundle = \"m\"", "c.toml:1:9: models.m has both a path and a bundle; give one")
        assertError("[bundles]\nsignatures_required = 0", "c.toml:2:23: bundles.signatures_required must be between 1 and 64, found 0")
        assertError("[bundles]\ntrusted_dir = \"keys\"", "c.toml:2:15: bundles.trusted_dir must be an absolute path, found \"keys\"")
        assertError("[server]\nshutdown_timeout_seconds = 86400.5", "c.toml:2:28: server.shutdown_timeout_seconds must be between 0 and 86400, found 86400.5")
    }

    func testSocketModeErrors() {
        let range = "server.socket_mode must be between 0 and 0o777"
        assertError("[server]\nsocket_mode = \"0800\"", #"c.toml:2:15: server.socket_mode must be octal digits like "0660", found "0800""#)
        assertError("[server]\nsocket_mode = \"\"", #"c.toml:2:15: server.socket_mode must be octal digits like "0660", found """#)
        assertError("[server]\nsocket_mode = \"rw-rw----\"", #"c.toml:2:15: server.socket_mode must be octal digits like "0660", found "rw-rw----""#)
        assertError("[server]\nsocket_mode = \"1777\"", #"c.toml:2:15: \#(range), found "1777""#)
        assertError("[server]\nsocket_mode = \"77777777777777777777777\"", #"c.toml:2:15: \#(range), found "77777777777777777777777""#)
        assertError("[server]\nsocket_mode = 660", "c.toml:2:15: \(range), found 660 (0o1224)")
        assertError("[server]\nsocket_mode = 0o1000", "c.toml:2:15: \(range), found 512 (0o1000)")
        assertError("[server]\nsocket_mode = -1", "c.toml:2:15: \(range), found -1")
    }

    func testPathErrors() {
        let long = "/" + String(repeating: "s", count: 107)
        assertError("[server]\nsocket = \"relative.sock\"", #"c.toml:2:10: server.socket must be an absolute path, found "relative.sock""#)
        assertError("[server]\nsocket = \"\"", #"c.toml:2:10: server.socket must be an absolute path, found """#)
        assertError("[server]\nsocket = \"\(long)\"", "c.toml:2:10: server.socket must be at most 107 bytes long, found 108 bytes")
        assertError("[server]\nsocket = \"/run/\\u0000x\"", #"c.toml:2:10: server.socket must not contain NUL, found "/run/\u0000x""#)
        assertError("[agent]\nstate_dir = 'var/lib/outpost'", #"c.toml:2:13: agent.state_dir must be an absolute path, found "var/lib/outpost""#)
    }

    func testInvalidChoices() {
        let levels = "debug, info, notice, warning, error"
        assertError("[log]\nlevel = \"loud\"", #"c.toml:2:9: log.level must be one of \#(levels); found "loud""#)
        assertError("[log]\nlevel = \"INFO\"", #"c.toml:2:9: log.level must be one of \#(levels); found "INFO""#)
        assertError("[log]\nformat = 'json'", #"c.toml:2:10: log.format must be one of auto, text, journal; found "json""#)
    }

    func testSyntaxErrorsComeThroughAndTheFirstErrorInFileOrderWins() {
        assertError("[server]\nmax_connections = 12 34", "c.toml:2:22: unexpected '3' after value; expected end of line")
        assertError("[server]\nmax_connections = 1\nmax_connections = 2", "c.toml:3:1: duplicate key 'server.max_connections' (first defined at line 2, column 1)")
        assertError("[log]\nlevel = \"loud\"\n[sever]", #"c.toml:2:9: log.level must be one of debug, info, notice, warning, error; found "loud""#)
        assertError("[server]\nbogus = 1\nmax_connections = 0", "c.toml:2:1: unknown key 'server.bogus'; expected one of: header_timeout_seconds, idle_timeout_seconds, max_body_bytes, max_connections, shutdown_timeout_seconds, socket, socket_mode")
    }

    // MARK: Files

    func testMissingFile() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let path = directory.path("absent.toml")
        XCTAssertEqual(try Config.load(path: path, mustExist: false), Config())
        XCTAssertThrowsError(try Config.load(path: path, mustExist: true)) { error in
            XCTAssertEqual("\(error)", "open \(path): No such file or directory")
        }
        let underMissingDirectory = directory.path("no/such/dir.toml")
        XCTAssertEqual(try Config.load(path: underMissingDirectory, mustExist: false), Config())
    }

    func testLoadsAFileAndNamesItInErrors() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let good = try directory.write("good.toml", Array(Self.fullExample.utf8))
        XCTAssertEqual(try Config.load(path: good, mustExist: true), try Config.parse(Self.fullExample, file: "x"))
        XCTAssertEqual(try Config.load(path: good, mustExist: false).logLevel, .debug)

        let bad = try directory.write("bad.toml", Array("[log]\nlevel = \"info\"\n[server]\nsokcet = 1\n".utf8))
        XCTAssertThrowsError(try Config.load(path: bad, mustExist: false)) { error in
            XCTAssertEqual(error as? TOMLError, TOMLError(file: bad, line: 4, column: 1, message: "unknown key 'server.sokcet'; expected one of: header_timeout_seconds, idle_timeout_seconds, max_body_bytes, max_connections, shutdown_timeout_seconds, socket, socket_mode"))
        }

        let notUTF8 = try directory.write("latin1.toml", Array("[agent]\nstate_dir = \"/caf".utf8) + [0xE9, 0x22, 0x0A])
        XCTAssertThrowsError(try Config.load(path: notUTF8, mustExist: false)) { error in
            XCTAssertEqual("\(error)", "\(notUTF8):2:18: file is not valid UTF-8")
        }
    }

    func testUnreadableFilesAreErrorsEvenWhenOptional() throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        XCTAssertThrowsError(try Config.load(path: directory.root, mustExist: false)) { error in
            XCTAssertEqual("\(error)", "read \(directory.root): Is a directory")
        }
        let huge = try directory.write("huge.toml", Array(repeating: UInt8(ascii: "#"), count: Config.maxFileBytes + 1))
        XCTAssertThrowsError(try Config.load(path: huge, mustExist: false)) { error in
            XCTAssertEqual("\(error)", "read \(huge): File too large")
        }
    }

    // MARK: Randomized

    /// Mutated configurations must parse or fail with a `TOMLError` inside the text; a crash fails the run.
    func testRandomMutationsNeverCrashAndErrorsPointIntoTheText() {
        var random = SplitMix64(seed: 0x5EED_0F_0CA1)
        let alphabet = Array(" \t\n\r#=[]{}\"'\\.,_-+:0123456789aeEfxobnu\u{0}\u{7}\u{7F}é日\u{FEFF}\u{301}".unicodeScalars)
        let original = Array(Self.fullExample.unicodeScalars)
        var parsed = 0
        var failed = 0
        for _ in 0..<2000 {
            var scalars = original
            for _ in 0...random.next(below: 4) {
                let at = random.next(below: scalars.count + 1)
                switch random.next(below: 4) {
                case 0:
                    scalars.insert(alphabet[random.next(below: alphabet.count)], at: at)
                case 1 where at < scalars.count:
                    scalars.remove(at: at)
                case 2 where at < scalars.count:
                    scalars[at] = alphabet[random.next(below: alphabet.count)]
                default:
                    // Copy a stretch elsewhere: duplicated keys, headers and half-lines.
                    let start = random.next(below: original.count)
                    let end = min(original.count, start + random.next(below: 40))
                    scalars.insert(contentsOf: original[start..<end], at: at)
                }
            }
            let text = String(String.UnicodeScalarView(scalars))
            do throws(TOMLError) {
                _ = try Config.parse(text, file: "fuzz.toml")
                parsed += 1
            } catch {
                failed += 1
                assertInside(error, text)
            }
        }
        // Both outcomes must occur, or the mutations are not exercising anything.
        XCTAssertGreaterThan(parsed, 100)
        XCTAssertGreaterThan(failed, 100)
    }

    private func assertInside(_ error: TOMLError, _ text: String, file: StaticString = #filePath, line: UInt = #line) {
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(\.count)
        if text.unicodeScalars.first == "\u{FEFF}" { lines[0] -= 1 }
        XCTAssertEqual(error.file, "fuzz.toml", file: file, line: line)
        XCTAssertFalse(error.message.isEmpty, file: file, line: line)
        guard (1...lines.count).contains(error.line) else {
            return XCTFail("\(error) is past the last line, \(lines.count)", file: file, line: line)
        }
        XCTAssertTrue((1...lines[error.line - 1] + 1).contains(error.column), "\(error) is outside its line", file: file, line: line)
    }

    // MARK: Helpers

    private func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do throws(TOMLError) {
            let config = try Config.parse(text, file: "c.toml")
            XCTFail("parsed \(config), expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }
}

