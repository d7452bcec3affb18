// `outpost telemetry status|tail`: the agent's telemetry spool, for a site admin (root or the admin group).
import Arguments
import FoundationEssentials
import Platform

enum TelemetryCommands {
    static var group: Command {
        Command.group(name: "telemetry", summary: "what the agent keeps for the central collector", subcommands: [
            Command(
                name: "status", summary: "the spool's backlog, drops and damage",
                usage: """
                    Usage: outpost telemetry status [--socket PATH] [--json]

                    Options:
                      --socket PATH   the agent's socket (default $OUTPOST_SOCKET, else \(AgentClient.defaultSocket))
                      --json          the agent's object: backlog_records, backlog_bytes, oldest_undelivered, dropped
                                      (by kind), corrupt, spool_bytes, spool_max_bytes, endpoint
                      -h, --help      print this help
                    """,
                valueOptions: ["socket"], flagOptions: ["json", "help"],
                run: { arguments in try status(arguments) }),
            Command(
                name: "tail", summary: "print the newest spooled records (audit events, warnings, ...)",
                usage: """
                    Usage: outpost telemetry tail [--kind audit|warning|request|metrics] [--limit N] [--socket PATH]

                    Prints the newest undelivered records of the spool, oldest first, one JSON object per line
                    (sequence, kind, and the record): the local audit trail of a site with no central collector.

                    Options:
                      --kind K        only records of kind K
                      --limit N       at most N records (default 100)
                      --socket PATH   the agent's socket
                      -h, --help      print this help
                    """,
                valueOptions: ["socket", "kind", "limit"], flagOptions: ["help"],
                run: { arguments in
                    var target = "/v1/admin/telemetry/records?limit=\(try arguments.integer("limit") ?? 100)"
                    if let kind = arguments.value("kind") { target += "&kind=" + kind }
                    let response = try AgentClient(socketOption: arguments.value("socket")).get(target)
                    try FileDescriptor.standardOutput.writeAll(response.body)
                }),
        ])
    }

    static func status(_ arguments: Arguments) throws {
        let response = try AgentClient(socketOption: arguments.value("socket")).get("/v1/admin/telemetry")
        if arguments.has("json") {
            print(response.text)
            return
        }
        struct Status: Decodable {
            let backlog_records: Int
            let backlog_bytes: Int64
            let oldest_undelivered: UInt64?
            let dropped: [String: Int]
            let corrupt: Int
            let spool_bytes: Int64
            let spool_max_bytes: Int64
            let endpoint: String?
        }
        guard let status = try? JSONDecoder().decode(Status.self, from: Data(response.body)) else {
            print(response.text)
            return
        }
        print("spool: \(status.spool_bytes >> 10) KiB of \(status.spool_max_bytes >> 20) MiB; backlog \(status.backlog_records) record(s)"
              + (status.oldest_undelivered.map { ", oldest #\($0)" } ?? ""))
        print("collector: \(status.endpoint ?? "none configured (the spool keeps the records; outpost telemetry tail reads them)")")
        let drops = status.dropped.filter { $0.value > 0 }.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("dropped: \(drops.isEmpty ? "none" : drops.joined(separator: ", ")); damaged records skipped: \(status.corrupt)")
    }
}
