// outpost: the command-line tool for local admins, developers and the central team. Argument handling only.
import Agent

struct Command {
    let name: String
    let summary: String
    let usage: String
    let valueOptions: Set<String>
    let flagOptions: Set<String>
    let run: (Arguments) throws -> Void
}

let commands: [Command] = [
    Command(
        name: "status", summary: "show what the running agent is doing",
        usage: """
            Usage: outpost status [--socket PATH] [--json]

            Asks the running agent for its version, uptime, connections and models.

            Options:
              --socket PATH   the agent's socket (default $OUTPOST_SOCKET, else \(AgentClient.defaultSocket))
              --json          print the agent's JSON answer as it is
              -h, --help      print this help
            """,
        valueOptions: ["socket"], flagOptions: ["json", "help"],
        run: { arguments in
            print(try StatusCommand.run(socket: arguments.value("socket"), json: arguments.has("json")))
        }),
]

let overview = """
    Usage: outpost COMMAND [OPTIONS]

    Outpost: an edge model-serving agent. Commands:
    \(commands.map { "  " + $0.name.padding(12) + $0.summary }.joined(separator: "\n"))

    Run 'outpost COMMAND --help' for a command's options. 'outpost --version' prints the version.
    Exit status: 0 on success, 1 when the command failed, 2 on a usage error.
    """

extension String {
    func padding(_ width: Int) -> String { self + String(repeating: " ", count: max(1, width - count)) }
}

var argv = Array(CommandLine.arguments.dropFirst())
if argv.first == "help" {
    argv.removeFirst()
    if let name = argv.first, let command = commands.first(where: { $0.name == name }) {
        print(command.usage)
    } else {
        print(overview)
    }
    exitProcess(0)
}
guard let name = argv.first else {
    printError(overview)
    exitProcess(2)
}
switch name {
case "-h", "--help":
    print(overview)
    exitProcess(0)
case "--version":
    print(BuildInfo.versionLine(program: "outpost"))
    exitProcess(0)
default:
    break
}
guard let command = commands.first(where: { $0.name == name }) else {
    printError("outpost: unknown command '\(name)'\nTry 'outpost --help'.")
    exitProcess(2)
}
let arguments: Arguments
do {
    arguments = try Arguments(Array(argv.dropFirst()), valueOptions: command.valueOptions, flagOptions: command.flagOptions)
} catch {
    printError("outpost \(command.name): \(error)\nTry 'outpost \(command.name) --help'.")
    exitProcess(2)
}
if arguments.has("help") {
    print(command.usage)
    exitProcess(0)
}
do {
    try command.run(arguments)
} catch {
    printError("outpost \(command.name): \(error)")
    exitProcess(1)
}
