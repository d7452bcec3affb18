// outpost: the command-line tool for local admins, developers and the central team. Argument handling only.
import Arguments
import BuildInfo
import Platform

struct Command {
    let name: String
    let summary: String
    let usage: String
    let valueOptions: Set<String>
    let flagOptions: Set<String>
    let run: (Arguments) throws -> Void
    /// Commands under this one (`outpost bundle create`); a group has no `run` of its own.
    var subcommands: [Command] = []

    static func group(name: String, summary: String, subcommands: [Command]) -> Command {
        Command(name: name, summary: summary,
                usage: """
                    Usage: outpost \(name) COMMAND [OPTIONS]

                    \(summary.prefix(1).uppercased() + summary.dropFirst()). Commands:
                    \(subcommands.map { "  " + $0.name.padding(12) + $0.summary }.joined(separator: "\n"))

                    Run 'outpost \(name) COMMAND --help' for a command's options.
                    """,
                valueOptions: [], flagOptions: ["help"], run: { _ in }, subcommands: subcommands)
    }
}

var commands: [Command] = [
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
    Command(
        name: "models", summary: "list the models the running agent serves",
        usage: """
            Usage: outpost models [--socket PATH] [--json]

            Options:
              --socket PATH   the agent's socket (default $OUTPOST_SOCKET, else \(AgentClient.defaultSocket))
              --json          print the agent's JSON answer as it is
              -h, --help      print this help
            """,
        valueOptions: ["socket"], flagOptions: ["json", "help"],
        run: { arguments in print(try ServingCommands.models(socket: arguments.value("socket"), json: arguments.has("json"))) }),
    Command(
        name: "generate", summary: "complete a prompt with a model of the running agent",
        usage: """
            Usage: outpost generate MODEL PROMPT [--stream] [--max-tokens N] [--temperature T] [--seed S] [--top-k K] [--top-p P]

            Sends PROMPT to /v1/completions of the running agent and prints the completion (as it arrives with
            --stream).

            Options:
              --stream           print text as it is generated
              --max-tokens N     most tokens to generate (agent default 256)
              --temperature T    0 for greedy decoding (agent default 1)
              --seed S, --top-k K, --top-p P   sampling controls
              --socket PATH      the agent's socket
              --json             print the agent's JSON (each SSE event on its own line with --stream)
              -h, --help         print this help
            """,
        valueOptions: ["socket", "max-tokens", "temperature", "seed", "top-k", "top-p"], flagOptions: ["stream", "json", "help"],
        run: { arguments in
            guard arguments.positionals.count == 2 else {
                throw UsageError("expected MODEL and PROMPT, got \(arguments.positionals.count) argument\(arguments.positionals.count == 1 ? "" : "s")")
            }
            try ServingCommands.generate(socket: arguments.value("socket"), model: arguments.positionals[0],
                                         prompt: arguments.positionals[1], stream: arguments.has("stream"), json: arguments.has("json"),
                                         sampling: try ServingCommands.sampling(arguments))
        }),
    Command(
        name: "chat", summary: "chat with a model of the running agent (interactive, streams, keeps history)",
        usage: """
            Usage: outpost chat MODEL [--max-tokens N] [--temperature T] [--seed S] [--top-k K] [--top-p P] [--socket PATH]

            Reads one user turn per line from standard input and streams the model's answers; the whole
            conversation is sent each turn. An empty line or end of input quits.
            """,
        valueOptions: ["socket", "max-tokens", "temperature", "seed", "top-k", "top-p"], flagOptions: ["help"],
        run: { arguments in
            guard arguments.positionals.count == 1 else { throw UsageError("expected MODEL, got \(arguments.positionals.count) arguments") }
            try ServingCommands.chat(socket: arguments.value("socket"), model: arguments.positionals[0],
                                     sampling: try ServingCommands.sampling(arguments))
        }),
    Command(
        name: "run", summary: "generate text from a GGUF model file (no agent needed)",
        usage: """
            Usage: outpost run --model FILE --prompt TEXT [options]

            Generates a continuation of TEXT. stdout: the generated text only, streamed as it is produced;
            stderr: prompt and generation timings.

            Options:
              --model FILE          GGUF model file (required)
              --prompt TEXT         the prompt (required); raw text unless --chat
              --chat                wrap the prompt in the model's chat template as one user turn
              --max-tokens N        stop after N generated tokens (default 128)
              --temperature T       0 for greedy decoding (default 0.8)
              --top-k N             keep the N most likely tokens, 0 = off (default 40)
              --top-p P             nucleus sampling, 1 = off (default 0.95)
              --min-p P             drop tokens below P x the top probability, 0 = off (default 0.05)
              --repeat-penalty R    penalise the last 64 tokens, 1 = off (default 1)
              --seed S              seed for reproducible sampling (default: random)
              --stop TEXT           stop before TEXT (repeatable)
              --threads N           worker threads (default: number of CPUs)
              --ctx N               context length (default: prompt + max tokens, at least 512)
              --batch N             prompt tokens per forward pass (default 64)
              --json                print one JSON object at the end (text, token ids, finish reason, speeds)
                                    instead of streaming text
              -h, --help            print this help
            """,
        valueOptions: ["model", "prompt", "max-tokens", "temperature", "top-k", "top-p", "min-p", "repeat-penalty",
                       "seed", "stop", "threads", "ctx", "batch"],
        flagOptions: ["chat", "json", "help"],
        run: { arguments in _ = try ModelCommands.run(arguments) }),
    Command(
        name: "tokenize", summary: "print the token ids of a text as a JSON array",
        usage: """
            Usage: outpost tokenize --model FILE (--text TEXT | --file FILE) [--no-bos] [--no-parse-special] [--time]

            Prints the token ids as a JSON array; the BOS token is included when the model adds one. Like
            llama.cpp's llama-tokenize, special-token text such as <start_of_turn> becomes the special token.

            Options:
              --model FILE       GGUF model file (only its vocabulary is used)
              --text TEXT        the text to tokenize
              --file FILE        read the text from FILE instead (up to 64 MiB)
              --no-bos           do not add BOS/EOS even if the model asks for them
              --no-parse-special keep special-token text as plain text
              --time             print the bytes, tokens and milliseconds the encoding took to stderr
              -h, --help         print this help
            """,
        valueOptions: ["model", "text", "file"], flagOptions: ["no-bos", "no-parse-special", "time", "help"],
        run: { arguments in _ = try ModelCommands.tokenize(arguments) }),
    Command(
        name: "perplexity", summary: "perplexity of a model on a text file (llama.cpp's method)",
        usage: """
            Usage: outpost perplexity --model FILE --file TEXT [--ctx N] [--threads N] [--batch N]
                   outpost perplexity --model FILE --kl-divergence --kl-divergence-base BASE [--threads N] [--batch N]

            Splits the text into chunks of N tokens, evaluates each from an empty context and scores the second
            half of each chunk, as llama.cpp's llama-perplexity does. Progress goes to stderr; the last line on
            stdout is `perplexity: <value>`.

            With --kl-divergence, the model's full distribution at every scored position is compared with the base
            log-probabilities that `llama-perplexity --kl-divergence-base BASE` wrote (same chunks and tokens, read
            from BASE), and llama-perplexity's statistics are printed: mean KLD with its uncertainty, percentiles,
            Δp of the right token, and how often the most likely token is the base's ("Same top p").

            Options:
              --model FILE    GGUF model file
              --file TEXT     text file to score
              --ctx N         chunk (context) length in tokens (default 512)
              --threads N     worker threads (default: number of CPUs)
              --batch N       tokens per forward pass (default 64)
              --kl-divergence              compare with a base file instead of scoring a text
              --kl-divergence-base BASE    llama-perplexity's log-probability file
              -h, --help      print this help
            """,
        valueOptions: ["model", "file", "ctx", "threads", "batch", "kl-divergence-base"], flagOptions: ["kl-divergence", "help"],
        run: { arguments in _ = try ModelCommands.perplexity(arguments) }),
    Command(
        name: "inspect", summary: "describe a GGUF file: architecture, size, tensor types, vocabulary",
        usage: """
            Usage: outpost inspect --model FILE [--tensors] [--json]

            Prints the architecture, hyperparameters, tensor type counts, context length and vocabulary of a GGUF
            file, like gguf-dump.

            Options:
              --model FILE   GGUF model file
              --tensors      also list every tensor with its type and shape
              --json         machine-readable output
              -h, --help     print this help
            """,
        valueOptions: ["model"], flagOptions: ["tensors", "json", "help"],
        run: { arguments in _ = try InspectCommand.run(arguments) }),
    Command(
        name: "bench", summary: "prompt-processing and generation speed, as llama-bench measures them",
        usage: """
            Usage: outpost bench --model FILE [--threads N] [--prompt-tokens P] [--gen-tokens G] [--repetitions R] [--json]

            Prompt processing: P random tokens in one batch from an empty cache. Generation: G tokens one at a
            time from an empty cache (random tokens, as llama-bench's tg), then the same with each token chosen from
            the logits: greedy, and sampled with llama-server's default chain (temperature 0.8, top-k 40,
            top-p 0.95, min-p 0.05). Each is run once untimed, then R times; the mean tokens/s is reported, with
            the cost of one sampled token and its share of a decode step, and the peak resident memory.

            Options:
              --model FILE        GGUF model file
              --threads N         worker threads (default: number of CPUs)
              --prompt-tokens P   default 512 (0 skips prompt processing)
              --gen-tokens G      default 128 (0 skips generation)
              --repetitions R     timed runs of each (default 3)
              --json              one JSON object: prompt_tps, gen_tps, gen_greedy_tps, gen_sampled_tps, sample_us,
                                  sample_share_of_step, threads, prompt_tokens, gen_tokens, model,
                                  kernels (the kernel tier that ran), peak_rss_bytes, ...
              -h, --help          print this help

            Environment:
              OUTPOST_KERNELS     cap the kernel tier (scalar, avx2, avx-vnni, avx512-vnni) to compare them;
                                  by default the best one this CPU has runs. Every tier gives the same bits.
            """,
        valueOptions: ["model", "threads", "prompt-tokens", "gen-tokens", "repetitions"], flagOptions: ["json", "help"],
        run: { arguments in _ = try BenchCommand.run(arguments) }),
]

commands.append(Command(
    name: "keygen", summary: "make a minisign-compatible key pair for signing bundles",
    usage: """
        Usage: outpost keygen [--public-key FILE] [--secret-key FILE] [--password-file FILE | --no-password] [--force]

        Writes a new Ed25519 key pair in minisign's formats: minisign signs and verifies with it, and keys made
        by `minisign -G` serve outpost alike. The secret key is encrypted with scrypt under a password read from
        the terminal (twice, not echoed), from the first line of --password-file FILE, or from the first line of
        standard input; --no-password writes it
        unencrypted, as `minisign -W` does. Existing files are kept unless --force. Prints the key id and the
        public key line.

        Options:
          --public-key FILE   where the public key goes (default ./outpost.pub, mode 0644)
          --secret-key FILE   where the secret key goes (default ./outpost.key, mode 0600)
          --password-file F   read the password from the first line of F
          --no-password       do not encrypt the secret key
          --force             replace existing files
          -h, --help          print this help
        """,
    valueOptions: ["public-key", "secret-key", "password-file"], flagOptions: ["no-password", "force", "help"],
    run: { arguments in _ = try KeyCommands.keygen(arguments) }))
commands.append(BundleCommands.group)
commands += StoreCommands.commands
commands.append(RegistryCommands.releaseGroup)
commands.append(StoreCommands.syncGroup)
commands.append(TelemetryCommands.group)

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
guard var command = commands.first(where: { $0.name == name }) else {
    printError("outpost: unknown command '\(name)'\nTry 'outpost --help'.")
    exitProcess(2)
}
var commandName = command.name
argv.removeFirst()
if !command.subcommands.isEmpty {
    guard let sub = argv.first, !sub.hasPrefix("-") else {
        if argv.first == "-h" || argv.first == "--help" {
            print(command.usage)
            exitProcess(0)
        }
        printError(command.usage)
        exitProcess(2)
    }
    guard let found = command.subcommands.first(where: { $0.name == sub }) else {
        printError("outpost \(command.name): unknown command '\(sub)'\nTry 'outpost \(command.name) --help'.")
        exitProcess(2)
    }
    argv.removeFirst()
    command = found
    commandName += " " + found.name
}
let arguments: Arguments
do {
    arguments = try Arguments(argv, valueOptions: command.valueOptions, flagOptions: command.flagOptions)
} catch {
    printError("outpost \(commandName): \(error)\nTry 'outpost \(commandName) --help'.")
    exitProcess(2)
}
if arguments.has("help") {
    print(command.usage)
    exitProcess(0)
}
do {
    if let socket = arguments.value("socket") {
        guard !socket.isEmpty else { throw UsageError("--socket needs a path, got an empty string") }
        guard socket.utf8.count <= AgentClient.maxSocketPathLength else {
            throw UsageError("--socket path is \(socket.utf8.count) bytes; a Unix socket path holds at most \(AgentClient.maxSocketPathLength)")
        }
    }
    try command.run(arguments)
} catch let error as UsageError {
    printError("outpost \(commandName): \(error)\nTry 'outpost \(commandName) --help'.")
    exitProcess(2)
} catch let error as ExitStatus {
    exitProcess(error.code)
} catch {
    printError("outpost \(commandName): \(error)")
    exitProcess(1)
}
