// outpostd: the Outpost agent. Argument handling only; the service lives in the Agent module.
import Agent
import Arguments
import BuildInfo
import Config
import Platform

let usage = """
    Usage: outpostd [--config FILE] [--socket PATH] [--state-dir DIR] [--store-key-file FILE] [--model NAME=PATH.gguf ...]

    Runs the Outpost agent in the foreground, serving the HTTP API on a Unix socket.
    Under systemd it uses socket activation when the socket unit passes one, reports READY=1 once listening,
    feeds the watchdog from its serving loop, reloads its configuration on SIGHUP and drains on SIGTERM.

    Options:
      --config FILE     configuration file (default \(Config.defaultPath); built-in defaults when
                        the default file does not exist; a file named here must exist)
      --socket PATH     API socket path, overrides server.socket (default /run/outpost/outpost.sock)
      --state-dir DIR   state directory, overrides agent.state_dir (default /var/lib/outpost)
      --store-key-file FILE  the model store's key (32 bytes, raw or hex), overrides store.key_file; under
                        systemd the key comes as the credential outpost-store.key instead
      --model NAME=PATH serve the GGUF file PATH as model NAME (repeatable; adds to [models.NAME] tables)
      --version         print the version and exit
      -h, --help        print this help and exit

    Exit status: 0 after a clean stop, 1 on a start-up failure, 78 when the configuration is invalid.
    """

do {
    let arguments = try Arguments(Array(CommandLine.arguments.dropFirst()),
                                  valueOptions: ["config", "socket", "state-dir", "store-key-file", "model"], flagOptions: ["help", "version"])
    if arguments.has("help") {
        print(usage)
    } else if arguments.has("version") {
        print(BuildInfo.versionLine(program: "outpostd"))
    } else {
        guard arguments.positionals.isEmpty else { throw UsageError("unexpected argument '\(arguments.positionals[0])'") }
        var options = DaemonOptions(configPath: arguments.value("config"), socketPath: arguments.value("socket"),
                                    stateDirectory: arguments.value("state-dir"))
        options.storeKeyFile = arguments.value("store-key-file")
        for model in arguments.values["model"] ?? [] { options.models.append(try DaemonOptions.model(model)) }
        exitProcess(AgentService.run(options: options))
    }
} catch {
    printError("outpostd: \(error)\nTry 'outpostd --help'.")
    exitProcess(2)
}

extension DaemonOptions {
    /// Parses `NAME=PATH` from `--model`.
    static func model(_ argument: String) throws(UsageError) -> ModelConfig {
        guard let equals = argument.firstIndex(of: "=") else { throw UsageError("--model expects NAME=PATH, got '\(argument)'") }
        let name = String(argument[..<equals]), path = String(argument[argument.index(after: equals)...])
        guard ModelConfig.isValidName(name) else {
            throw UsageError("model name '\(name)' must be 1 to 64 letters, digits, '.', '-', '_' or ':'")
        }
        guard !path.isEmpty else { throw UsageError("--model \(name)= needs a path") }
        return ModelConfig(name: name, path: path)
    }
}
