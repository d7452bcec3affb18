// `outpost install|versions|activate|rollback|remove`: the site admin's side of the model store, through the
// running agent (root or the admin group).
import Arguments
import Bundles
import FoundationEssentials
import HTTP
import JSON
import Platform

enum StoreCommands {
    static let socketHelp = "  --socket PATH    the agent's socket (default $OUTPOST_SOCKET, else \(AgentClient.defaultSocket))"

    static var commands: [Command] {
        [
            Command(
                name: "install", summary: "install a signed bundle into the agent's store and activate it",
                usage: """
                    Usage: outpost install BUNDLE.tar [--allow-downgrade] [--socket PATH] [--json]

                    Streams the bundle to the running agent, which verifies it against /etc/outpost/trusted.d while
                    storing it encrypted, loads it beside the version serving now, runs its smoke test (the greedy
                    text must be the one bundle.json recorded) and only then switches new requests to it. Any
                    failure leaves the active version as it was and says why. A directory bundle is sent as a tar.

                    Options:
                      --allow-downgrade   install a version older than the active one
                    \(socketHelp)
                      --json           print the agent's JSON answer
                      -h, --help       print this help
                    """,
                valueOptions: ["socket"], flagOptions: ["allow-downgrade", "json", "help"],
                run: { arguments in try install(arguments) }),
            Command(
                name: "versions", summary: "list installed bundle versions and which is active",
                usage: """
                    Usage: outpost versions [MODEL] [--socket PATH] [--json]

                    Options:
                    \(socketHelp)
                      --json           an array of objects: model, version, active, status, failure, signed_by,
                                       installed_at, installed_by, activated_at, activated_by, ...
                      -h, --help       print this help
                    """,
                valueOptions: ["socket"], flagOptions: ["json", "help"],
                run: { arguments in try versions(arguments) }),
            Command(
                name: "activate", summary: "activate an installed version (after its smoke test)",
                usage: """
                    Usage: outpost activate MODEL VERSION [--socket PATH] [--json]
                    """,
                valueOptions: ["socket"], flagOptions: ["json", "help"],
                run: { arguments in try change(arguments, "activate", count: 2) }),
            Command(
                name: "rollback", summary: "go back to the previous good version of a model",
                usage: """
                    Usage: outpost rollback MODEL [--socket PATH] [--json]
                    """,
                valueOptions: ["socket"], flagOptions: ["json", "help"],
                run: { arguments in try change(arguments, "rollback", count: 1) }),
            Command(
                name: "remove", summary: "remove an installed version that is not active",
                usage: """
                    Usage: outpost remove MODEL VERSION [--socket PATH] [--json]
                    """,
                valueOptions: ["socket"], flagOptions: ["json", "help"],
                run: { arguments in try change(arguments, "remove", count: 2) }),
        ]
    }

    static func install(_ arguments: Arguments) throws {
        guard arguments.positionals.count == 1 else { throw UsageError("expected one BUNDLE.tar, got \(arguments.positionals.count) arguments") }
        let path = arguments.positionals[0]
        guard (try? FileSystem.status(path))??.kind == .regular else {
            throw CLIError("\(path) is not a bundle tar (make one with outpost bundle create --output FILE.tar)")
        }
        let file: FileDescriptor
        let length: Int64
        do {
            file = try FileDescriptor.open(path, .readOnly)
            length = try file.status().size
        } catch {
            throw CLIError("cannot read \(path): \(error)")
        }
        defer { file.close() }
        file.adviseSequential()
        Signals.ignoreBrokenPipe()
        let agent = AgentClient(socketOption: arguments.value("socket"))
        let client: HTTPClient
        do {
            client = try HTTPClient(socketPath: agent.socketPath)
        } catch {
            throw CLIError("cannot reach the agent at \(agent.socketPath): \(AgentClient.reason(error)); is outpostd running?")
        }
        let progress = ProgressLine("sending the bundle")
        var headers = HTTPHeaders()
        headers.add("Content-Type", "application/x-tar")
        let target = "/v1/admin/bundles" + (arguments.has("allow-downgrade") ? "?allow_downgrade=1" : "")
        let response: HTTPClientResponse
        do {
            response = try client.upload(target, file: file, length: length, headers: headers) { progress.update(done: $0, total: length) }
        } catch {
            throw CLIError("the agent at \(agent.socketPath) did not answer: \(error)")
        }
        guard (200..<300).contains(response.status) else {
            throw CLIError("install refused: \(response.status) \(AgentClient.errorMessage(response))")
        }
        if arguments.has("json") {
            print(response.text)
            return
        }
        struct Answer: Decodable {
            let model: String
            let version: String
            let signed_by: [String]
            let smoke_test: String
            let removed: [String]
        }
        guard let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body)) else {
            print(response.text)
            return
        }
        print("installed \(answer.model) \(answer.version), active now (signed by \(answer.signed_by.joined(separator: ", ")))")
        print("smoke test \(answer.smoke_test)")
        if !answer.removed.isEmpty { print("removed older versions: \(answer.removed.joined(separator: ", "))") }
    }

    static func versions(_ arguments: Arguments) throws {
        guard arguments.positionals.count <= 1 else { throw UsageError("expected at most one MODEL") }
        var target = "/v1/admin/versions"
        if let model = arguments.positionals.first { target += "?model=" + model }
        let response = try AgentClient(socketOption: arguments.value("socket")).get(target)
        if arguments.has("json") {
            print(response.text)
            return
        }
        struct Row: Decodable {
            let model: String
            let version: String
            let active: Bool
            let status: String
            let failure: String?
            let installed_at: String
            let installed_by: String
            let activated_at: String?
        }
        guard let rows = try? JSONDecoder().decode([Row].self, from: Data(response.body)) else {
            print(response.text)
            return
        }
        if rows.isEmpty {
            print("no bundles installed")
            return
        }
        for row in rows {
            var line = "\(row.active ? "*" : " ") \(row.model) \(row.version)  \(row.status)  installed \(row.installed_at) by \(row.installed_by)"
            if let activated = row.activated_at { line += ", last activated \(activated)" }
            if let failure = row.failure { line += "\n    failed: \(failure)" }
            print(line)
        }
    }

    static func change(_ arguments: Arguments, _ operation: String, count: Int) throws {
        guard arguments.positionals.count == count else {
            throw UsageError("expected \(count == 2 ? "MODEL and VERSION" : "MODEL"), got \(arguments.positionals.count) argument\(arguments.positionals.count == 1 ? "" : "s")")
        }
        var body = "{\"model\":\(JSONWriter.encode([arguments.positionals[0]]).dropFirst().dropLast())"
        if count == 2 {
            guard SemanticVersion(arguments.positionals[1]) != nil else { throw UsageError("VERSION must be MAJOR.MINOR.PATCH, got '\(arguments.positionals[1])'") }
            body += ",\"version\":\(JSONWriter.encode([arguments.positionals[1]]).dropFirst().dropLast())"
        }
        body += "}"
        let response = try AgentClient(socketOption: arguments.value("socket")).post("/v1/admin/\(operation)", json: body)
        if arguments.has("json") {
            print(response.text)
            return
        }
        struct Answer: Decodable {
            let model: String?
            let version: String?
            let smoke_test: String?
        }
        let answer = try? JSONDecoder().decode(Answer.self, from: Data(response.body))
        switch operation {
        case "remove": print("removed \(arguments.positionals[0]) \(arguments.positionals[1])")
        default:
            print("\(arguments.positionals[0]) \(answer?.version ?? "") active now" + (answer?.smoke_test.map { "; smoke test \($0)" } ?? ""))
        }
    }

    static var syncGroup: Command {
        Command.group(name: "sync", summary: "the release channel the agent follows", subcommands: [
            Command(
                name: "status", summary: "show the channel, the release seen, downloads, the last error",
                usage: """
                    Usage: outpost sync status [--socket PATH] [--json]

                    Options:
                    \(socketHelp)
                      --json           the agent's object: registry, repository, channel, release, state, last_success,
                                       last_error, next_attempt, downloading (bytes, total, rate, ETA), attempts, ...
                      -h, --help       print this help
                    """,
                valueOptions: ["socket"], flagOptions: ["json", "help"],
                run: { arguments in try syncStatus(arguments) }),
            Command(
                name: "now", summary: "check the channel now",
                usage: """
                    Usage: outpost sync now [--socket PATH]
                    """,
                valueOptions: ["socket"], flagOptions: ["help"],
                run: { arguments in
                    _ = try AgentClient(socketOption: arguments.value("socket")).post("/v1/admin/sync", json: "{}")
                    print("the agent checks its channel now (outpost sync status shows the outcome)")
                }),
        ])
    }

    static func syncStatus(_ arguments: Arguments) throws {
        let response = try AgentClient(socketOption: arguments.value("socket")).get("/v1/admin/sync")
        if arguments.has("json") {
            print(response.text)
            return
        }
        struct Status: Decodable {
            struct Download: Decodable {
                let bundle: String
                let bytes: Int64
                let total: Int64
                let bytes_per_second: Double
                let eta_seconds: Double?
            }
            let enabled: Bool?
            let reason: String?
            let registry: String?
            let repository: String?
            let channel: String?
            let release: Int64?
            let state: String?
            let last_success: String?
            let last_error: String?
            let next_attempt: String?
            let downloading: Download?
        }
        guard let status = try? JSONDecoder().decode(Status.self, from: Data(response.body)) else {
            print(response.text)
            return
        }
        if status.enabled == false {
            print("sync is off: \(status.reason ?? "")")
            return
        }
        print("channel \(status.channel ?? "?") of \(status.registry ?? "?")/\(status.repository ?? "?"): \(status.state ?? "?")")
        print("release: \(status.release.map(String.init) ?? "none accepted yet")")
        if let download = status.downloading {
            let eta = download.eta_seconds.map { ", about \(Int($0)) s left" } ?? ""
            print("downloading \(download.bundle): \(download.bytes >> 20) of \(download.total >> 20) MiB at \(Int(download.bytes_per_second) >> 10) KiB/s\(eta)")
        }
        print("last success: \(status.last_success ?? "never")")
        if let error = status.last_error { print("last error: \(error)") }
        if let next = status.next_attempt { print("next check: \(next)") }
    }
}
