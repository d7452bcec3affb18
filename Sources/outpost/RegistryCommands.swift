// `outpost bundle push` and `outpost bundle pull`: a bundle to and from any OCI registry, unchanged.
import Arguments
import Bundles
import Net
import Platform
import Sync

enum RegistryCommands {
    static let connectionHelp = """
          --registry URL       https://host[:port] (http:// only for a loopback registry, or with --insecure)
          --repository R       repository path, e.g. outpost/support-bot
          --auth-file F        a user:password line (default: $OUTPOST_REGISTRY_AUTH; none for an anonymous registry)
          --ca-file F          PEM CAs to trust instead of the system's
          --cert F, --key F    client certificate and key (PEM) for registries that require mutual TLS
          --insecure           allow plain http to a host that is not a loopback address
          --max-rate BYTES     cap the transfer at BYTES per second
        """

    static let valueOptions: Set<String> = ["registry", "repository", "auth-file", "ca-file", "cert", "key", "max-rate"]

    static var commands: [Command] {
        [
            Command(
                name: "push", summary: "upload a bundle to an OCI registry",
                usage: """
                    Usage: outpost bundle push BUNDLE --registry URL --repository R [--tag T] [options]

                    Uploads every blob of the bundle the repository does not have yet (large ones in 32 MiB
                    chunks), then its manifest under the tag (default: the bundle's version). Prints the manifest's
                    digest, which a release names.

                    Options:
                      --tag T              the tag (default: the version in bundle.json)
                    \(connectionHelp)
                      -h, --help           print this help
                    """,
                valueOptions: valueOptions.union(["tag"]), flagOptions: ["insecure", "help"],
                run: { arguments in try push(arguments) }),
            Command(
                name: "pull", summary: "download a bundle from an OCI registry into a tar",
                usage: """
                    Usage: outpost bundle pull REFERENCE --registry URL --repository R --output FILE.tar [options]

                    Fetches the manifest REFERENCE names (a tag or sha256:... digest) and every blob it lists, each
                    checked against its digest as it arrives, into a new bundle tar. Check it with
                    `outpost bundle verify` or install it with `outpost install`.

                    Options:
                      --output FILE.tar    where the bundle goes; must not exist
                    \(connectionHelp)
                      -h, --help           print this help
                    """,
                valueOptions: valueOptions.union(["output"]), flagOptions: ["insecure", "help"],
                run: { arguments in try pull(arguments) }),
        ]
    }

    static func client(_ arguments: Arguments) throws -> RegistryClient {
        guard let registry = arguments.value("registry") else { throw UsageError("--registry URL is required") }
        guard let repository = arguments.value("repository") else { throw UsageError("--repository R is required") }
        var credentials: (String, String)?
        var line: String?
        if let file = arguments.value("auth-file") {
            do {
                line = String(try ProcessStats.readSmallFile(file, limit: 4096).prefix { $0 != "\n" })
            } catch {
                throw CLIError("cannot read the registry credentials: \(error)")
            }
        } else {
            line = ProcessStats.environment("OUTPOST_REGISTRY_AUTH")
        }
        if let line {
            guard let colon = line.firstIndex(of: ":"), colon != line.startIndex else {
                throw CLIError("registry credentials must be one user:password line")
            }
            credentials = (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        var options = NetOptions()
        options.caFile = arguments.value("ca-file")
        options.clientCertificate = arguments.value("cert")
        options.clientKey = arguments.value("key")
        if let rate = try arguments.integer("max-rate") {
            guard rate > 0 else { throw UsageError("--max-rate must be positive") }
            options.maxBytesPerSecond = Int64(rate)
        }
        do {
            return try RegistryClient(registry: registry, repository: repository, credentials: credentials, options: options,
                                      allowInsecure: arguments.has("insecure"))
        } catch {
            throw UsageError(error.message)
        }
    }

    static func push(_ arguments: Arguments) throws {
        let path = try BundleCommands.onlyBundle(arguments)
        let client = try client(arguments)
        let reader: BundleReader
        let tag: String
        do {
            reader = try BundleReader(path: path)
            if let given = arguments.value("tag") {
                tag = given
            } else {
                let manifest = try BundleManifest(parsing: try BundleContents(reader).bundleJSON)
                tag = manifest.version.description
            }
        } catch {
            throw CLIError("\(path): \(error)")
        }
        let progress = ProgressLine("pushing")
        do {
            try client.ping()
            let digest = try BundleTransfer.push(reader, to: client, tag: tag) { progress.update(done: $0, total: $1) }
            print("pushed \(path) to \(client.registry)/\(client.repository):\(tag)")
            print(digest.description)
        } catch {
            throw CLIError(error.message)
        }
    }

    static func pull(_ arguments: Arguments) throws {
        guard arguments.positionals.count == 1 else { throw UsageError("expected one REFERENCE (a tag or a digest)") }
        guard let output = arguments.value("output") else { throw UsageError("--output FILE.tar is required") }
        guard output.hasSuffix(".tar") else { throw UsageError("--output must name a .tar file") }
        let client = try client(arguments)
        let progress = ProgressLine("pulling")
        do {
            try client.ping()
            let digest = try BundleTransfer.pull(arguments.positionals[0], from: client, output: output) { progress.update(done: $0, total: $1) }
            print("pulled \(client.registry)/\(client.repository)@\(digest) into \(output)")
        } catch {
            throw CLIError(error.message)
        }
    }

    static var releaseGroup: Command {
        Command.group(name: "release", summary: "publish and show signed release channels on a registry", subcommands: [
            Command(
                name: "publish", summary: "sign and push a release naming bundles for a channel",
                usage: """
                    Usage: outpost release publish --registry URL --repository R --channel C --secret-key F NAME=REF... [options]

                    Builds release.json naming each bundle NAME at REF (a tag or sha256:... digest of a bundle pushed to
                    the repository) by its manifest digest, with a number one higher than the channel's current
                    release (or --number N) and an expiry, signs it, pushes it and tags it with the channel. Sites
                    following the channel install what it names; they refuse a lower number and an expired release.
                    Prints the release's manifest digest.

                    Options:
                      --channel C          the channel (a tag name: stable, canary, ...)
                      --secret-key F       minisign secret key (outpost keygen or minisign -G)
                      --password-file F    its password, first line (else the terminal or standard input)
                      --expires DAYS       sites refuse the release after this many days (default 30)
                      --number N           the release number (default: the channel's current one plus one)
                    \(connectionHelp)
                      -h, --help           print this help
                    """,
                valueOptions: valueOptions.union(["channel", "secret-key", "password-file", "expires", "number"]), flagOptions: ["insecure", "help"],
                run: { arguments in try publish(arguments) }),
            Command(
                name: "show", summary: "print the release a channel points to (not verified)",
                usage: """
                    Usage: outpost release show --registry URL --repository R --channel C [options]

                    Prints the channel's release.json as published, and the release's manifest digest on stderr.

                    Options:
                      --channel C          the channel
                    \(connectionHelp)
                      -h, --help           print this help
                    """,
                valueOptions: valueOptions.union(["channel"]), flagOptions: ["insecure", "help"],
                run: { arguments in try show(arguments) }),
        ])
    }

    static func publish(_ arguments: Arguments) throws {
        guard let channel = arguments.value("channel") else { throw UsageError("--channel C is required") }
        guard let keyFile = arguments.value("secret-key") else { throw UsageError("--secret-key F is required") }
        guard !arguments.positionals.isEmpty else { throw UsageError("name at least one bundle as NAME=REF") }
        var bundles: [(name: String, reference: String)] = []
        for item in arguments.positionals {
            guard let equals = item.firstIndex(of: "="), equals != item.startIndex, item.index(after: equals) != item.endIndex else {
                throw UsageError("bundles are named NAME=REF (REF a tag or digest), got '\(item)'")
            }
            bundles.append((String(item[..<equals]), String(item[item.index(after: equals)...])))
        }
        let days = try arguments.integer("expires") ?? 30
        guard (1...3650).contains(days) else { throw UsageError("--expires must be from 1 to 3650 days") }
        let number = try arguments.integer("number")
        if let number, number < 1 { throw UsageError("--number must be positive") }
        let client = try client(arguments)
        let key = try KeyCommands.readSecretKey(keyFile, passwordFile: arguments.value("password-file"))
        do {
            try client.ping()
            let (release, digest) = try Releases.publish(channel: channel, bundles: bundles, key: key, expiresInDays: days,
                                                         number: number.map(Int64.init), to: client, now: Int64(Clock.wallSeconds()))
            let names = release.bundles.keys.sorted().map { "\($0) \(release.bundles[$0]!.version)" }.joined(separator: ", ")
            print("published release \(release.number) of \(channel) (\(names)), expires \(release.expires)")
            print(digest.description)
        } catch {
            throw CLIError(error.message)
        }
    }

    static func show(_ arguments: Arguments) throws {
        guard let channel = arguments.value("channel") else { throw UsageError("--channel C is required") }
        let client = try client(arguments)
        do {
            guard let fetched = try Releases.fetch(channel, from: client) else { throw CLIError("channel \(channel) has no release yet") }
            try FileDescriptor.standardOutput.writeAll(fetched.document)
            printError("release manifest \(fetched.digest), \(fetched.signatures.count) signature(s)")
        } catch let error as RegistryError {
            throw CLIError(error.message)
        }
    }
}
