// `outpost bundle create|manifest|sign|verify|inspect`: the central team makes and signs bundles, a site admin
// checks them. The formats and checks live in the Bundles module; this file reads options and prints results.
import Arguments
import BuildInfo
import Bundles
import Config
import JSON
import Platform
import Serving
import Tokenizer

enum BundleCommands {
    static var group: Command { Command.group(name: "bundle", summary: "make, sign, verify and inspect signed model bundles", subcommands: [
        Command(
            name: "create", summary: "make an unsigned bundle from a GGUF file",
            usage: """
                Usage: outpost bundle create --model FILE.gguf --name NAME --version X.Y.Z --output DIR|FILE.tar [options]

                Makes a bundle: an OCI image layout (a directory, or a tar when the output ends in .tar) holding the
                model, its bundle.json (name, version, the model's size, SHA-256 and architecture, serving defaults
                and a smoke test) and, once signed, its signatures. The smoke test is the greedy continuation of
                the smoke prompt that this build of Outpost produces now; a site repeats it before activating the
                bundle. The model is read once for copying and hashing (progress on stderr). Nothing is left at
                the output path unless the whole bundle was written.

                Options:
                  --model FILE             the GGUF model file (required)
                  --name NAME              bundle name: lower-case letters, digits, '.', '_', '-' (required)
                  --version X.Y.Z          bundle version (required)
                  --output PATH            where the bundle goes; must not exist (required)
                  --smoke-prompt TEXT      prompt of the smoke test (default "\(SmokeTestLimits.defaultPrompt)")
                  --smoke-tokens N         tokens it generates, 1 to \(SmokeTestLimits.maxTokens) (default \(SmokeTestLimits.defaultMaxTokens))
                  --smoke-expected TEXT    record TEXT as the expected answer instead of running the model (for a
                                           model this machine cannot run, or to see a site refuse a bundle)
                  --expires DAYS           the bundle is refused this many days after creation (default: never)
                  --min-agent-version V    oldest Outpost that may install it (default \(BuildInfo.version), this one)
                  --context N              context length the agent should serve it with (default: the agent's)
                  --chat-template NAME     override the model's chat format: \(ChatTemplate.names.joined(separator: ", "))
                  --threads N              threads for the smoke test (default: number of CPUs)
                  --json                   print the bundle.json written instead of a summary
                  -h, --help               print this help
                """,
            valueOptions: ["model", "name", "version", "output", "smoke-prompt", "smoke-tokens", "smoke-expected", "expires", "min-agent-version",
                           "context", "chat-template", "threads"],
            flagOptions: ["json", "help"],
            run: { arguments in try create(arguments) }),
        Command(
            name: "manifest", summary: "print the exact bundle.json bytes (to sign elsewhere)",
            usage: """
                Usage: outpost bundle manifest BUNDLE [--output FILE]

                Writes the bundle's bundle.json exactly as stored, byte for byte, to stdout or FILE: the bytes a
                signature signs. Sign them on an offline machine with `minisign -S -m FILE` and attach the result
                with `outpost bundle sign BUNDLE --signature FILE.minisig`.

                Options:
                  --output FILE   write to FILE instead of stdout
                  -h, --help      print this help
                """,
            valueOptions: ["output"], flagOptions: ["help"],
            run: { arguments in try manifest(arguments) }),
        Command(
            name: "sign", summary: "sign a bundle, or attach a signature made elsewhere",
            usage: """
                Usage: outpost bundle sign BUNDLE --secret-key FILE [--password-file FILE] [--trusted-comment TEXT]
                       outpost bundle sign BUNDLE --signature FILE.minisig

                Adds a minisign signature of the bundle's bundle.json to the bundle (several keys may sign one
                bundle, for a site that requires k of n). With --secret-key the signature is made here (the key's
                password is read from the terminal, the first line of --password-file, or standard input); with
                --signature a signature made with `minisign -S` on `outpost bundle manifest`'s output is attached.
                A key that already signed the bundle is refused.

                Options:
                  --secret-key FILE        minisign secret key (outpost keygen or minisign -G)
                  --password-file FILE     read the key's password from the first line of FILE
                  --trusted-comment TEXT   signed comment (default: bundle name, version, model digest and time)
                  --signature FILE         attach this .minisig file instead of signing
                  -h, --help               print this help
                """,
            valueOptions: ["secret-key", "password-file", "trusted-comment", "signature"], flagOptions: ["help"],
            run: { arguments in try sign(arguments) }),
        Command(
            name: "verify", summary: "check a bundle's signatures, expiry and every byte",
            usage: """
                Usage: outpost bundle verify BUNDLE [--trusted DIR|KEY.pub] [--threshold K] [--config FILE] [--json]

                Checks, in order, stopping at the first failure: the layout (index.json, the OCI manifest,
                bundle.json and signature blobs against their descriptors), each signature's format, that its key
                is trusted, the signature over bundle.json's exact bytes and its trusted comment, that K distinct
                trusted keys signed, bundle.json itself, expiry, the minimum agent version, that the manifest's
                model layer is the one bundle.json lists, and the model's size and SHA-256 (read once).
                Exit status 0 and a summary when every check passes; otherwise 1 and one line naming the failed
                check ('layout', 'signature-format', 'trusted-key', 'signature', 'threshold', 'manifest', 'expiry',
                'agent-version', 'layers' or 'model').

                Options:
                  --trusted PATH    a directory of trusted *.pub keys, or one key file
                                    (default: [bundles] trusted_dir, /etc/outpost/trusted.d)
                  --threshold K     distinct trusted keys required (default: [bundles] signatures_required, 1)
                  --config FILE     read [bundles] from FILE (default \(Config.defaultPath) when it exists)
                  --json            one JSON object: verified, name, version, model_sha256, model_size,
                                    key_ids, ... or verified false with check and error
                  -h, --help        print this help
                """,
            valueOptions: ["trusted", "threshold", "config"], flagOptions: ["json", "help"],
            run: { arguments in try verify(arguments) }),
        Command(
            name: "inspect", summary: "show what a bundle holds (no trust decision)",
            usage: """
                Usage: outpost bundle inspect BUNDLE [--json]

                Lists the bundle's files, its bundle.json and its signatures (key ids and trusted comments) without
                checking any signature: use `outpost bundle verify` to decide whether to trust it.

                Options:
                  --json       one JSON object: format, files, manifest_digest, bundle (the parsed bundle.json or
                               null), bundle_error, signatures
                  -h, --help   print this help
                """,
            valueOptions: [], flagOptions: ["json", "help"],
            run: { arguments in try inspect(arguments) }),
    ] + RegistryCommands.commands) }

    static func onlyBundle(_ arguments: Arguments) throws(UsageError) -> String {
        guard arguments.positionals.count == 1 else {
            throw UsageError("expected one BUNDLE (a directory or a .tar), got \(arguments.positionals.count) arguments")
        }
        return arguments.positionals[0]
    }

    static func bundleError(_ error: BundleError) -> CLIError { CLIError(error.description) }

    // MARK: - create

    static func create(_ arguments: Arguments) throws {
        guard let modelPath = arguments.value("model") else { throw UsageError("--model FILE is required") }
        guard let name = arguments.value("name") else { throw UsageError("--name NAME is required") }
        guard let versionText = arguments.value("version") else { throw UsageError("--version X.Y.Z is required") }
        guard let output = arguments.value("output"), !output.isEmpty else { throw UsageError("--output DIR|FILE.tar is required") }
        guard arguments.positionals.isEmpty else { throw UsageError("unexpected argument '\(arguments.positionals[0])'") }
        do {
            try BundleManifest.checkName(name)
        } catch {
            throw UsageError(error.message)
        }
        guard let version = SemanticVersion(versionText) else { throw UsageError("--version must be MAJOR.MINOR.PATCH, got '\(versionText)'") }
        let minimum: SemanticVersion
        if let text = arguments.value("min-agent-version") {
            guard let parsed = SemanticVersion(text) else { throw UsageError("--min-agent-version must be MAJOR.MINOR.PATCH, got '\(text)'") }
            minimum = parsed
        } else {
            minimum = SemanticVersion(BuildInfo.version)!
        }
        let prompt = arguments.value("smoke-prompt") ?? SmokeTestLimits.defaultPrompt
        guard !prompt.isEmpty, prompt.utf8.count <= 4096 else { throw UsageError("--smoke-prompt must be 1 to 4096 bytes") }
        let smokeTokens = try arguments.integer("smoke-tokens") ?? SmokeTestLimits.defaultMaxTokens
        guard (1...SmokeTestLimits.maxTokens).contains(smokeTokens) else { throw UsageError("--smoke-tokens must be from 1 to \(SmokeTestLimits.maxTokens)") }
        let expiresDays = try arguments.integer("expires")
        if let expiresDays, !(1...36_500).contains(expiresDays) { throw UsageError("--expires must be from 1 to 36500 days") }
        let context = try arguments.integer("context")
        if let context, !(16...(1 << 20)).contains(context) { throw UsageError("--context must be from 16 to 1048576") }
        let template = arguments.value("chat-template")
        if let template, ChatTemplate.named(template) == nil {
            throw UsageError("--chat-template must be one of \(ChatTemplate.names.joined(separator: ", ")), got '\(template)'")
        }
        let threads = try RunOptions(arguments).threads
        guard (try? FileSystem.linkStatus(output)) == .some(nil) else { throw CLIError("\(output) exists; choose a new path") }

        let file = try ModelFile(path: modelPath)
        let architecture = (try? file.gguf.optionalString("general.architecture")) ?? nil
        guard let architecture, !architecture.isEmpty else { throw CLIError("\(modelPath) names no general.architecture") }
        if let context {
            let trained = try file.model().info.trainedContextLength
            guard context <= trained else { throw UsageError("--context \(context) is more than the model's trained context (\(trained))") }
        }
        let expected: String
        if let given = arguments.value("smoke-expected") {
            guard given.utf8.count <= 64 * 1024 else { throw UsageError("--smoke-expected is longer than 64 KiB") }
            expected = given
        } else {
            printError("smoke test: \(smokeTokens) greedy tokens after \"\(prompt)\"...")
            expected = try SmokeTest.greedyText(file, prompt: prompt, maxTokens: smokeTokens, threads: threads)
        }

        let now = Int64(Clock.wallSeconds())
        let baseName = String(modelPath.split(separator: "/").last ?? Substring(modelPath))
        let template0 = BundleManifest(
            name: name, version: version, created: UTCTimestamp.format(wholeSeconds: now),
            expires: expiresDays.map { UTCTimestamp.format(wholeSeconds: now + Int64($0) * 86_400) }, minAgentVersion: minimum,
            model: .init(file: baseName, size: 0, sha256: String(repeating: "0", count: 64), architecture: architecture),
            serving: .init(context: context, chatTemplate: template),
            smokeTest: .init(prompt: prompt, maxTokens: smokeTokens, expected: expected, producedBy: BuildInfo.version))
        let progress = ProgressLine("copying the model")
        let manifest: BundleManifest
        do {
            manifest = try BundleBuilder.create(modelPath: modelPath, manifest: template0, output: output) { progress.update(done: $0, total: $1) }
        } catch {
            throw bundleError(error)
        }
        if arguments.has("json") {
            try FileDescriptor.standardOutput.writeAll(manifest.bytes)
            return
        }
        print("created bundle \(manifest.name) \(manifest.version) (unsigned) at \(output)")
        print("model: \(manifest.model.file), \(manifest.model.size) bytes, sha256:\(manifest.model.sha256), \(manifest.model.architecture)")
        print("smoke test: \"\(prompt)\" -> \"\(expected)\"")
        print("next: outpost bundle sign \(output) --secret-key KEY")
    }

    // MARK: - manifest

    static func manifest(_ arguments: Arguments) throws {
        let path = try onlyBundle(arguments)
        let contents: BundleContents
        do {
            contents = try BundleContents(try BundleReader(path: path))
        } catch {
            throw bundleError(error)
        }
        if let output = arguments.value("output") {
            do {
                try AtomicFile.write(contents.bundleJSON, to: output, mode: 0o644)
            } catch {
                throw CLIError("cannot write \(output): \(error)")
            }
        } else {
            try FileDescriptor.standardOutput.writeAll(contents.bundleJSON)
        }
    }

    // MARK: - sign

    static func sign(_ arguments: Arguments) throws {
        let path = try onlyBundle(arguments)
        let signature: [UInt8]
        switch (arguments.value("secret-key"), arguments.value("signature")) {
        case (nil, nil): throw UsageError("give --secret-key FILE to sign, or --signature FILE.minisig to attach a signature")
        case (_?, _?): throw UsageError("give --secret-key or --signature, not both")
        case (nil, let file?):
            guard arguments.value("password-file") == nil, arguments.value("trusted-comment") == nil else {
                throw UsageError("--password-file and --trusted-comment go with --secret-key")
            }
            do {
                let fd = try FileDescriptor.open(file, .readOnly)
                defer { fd.close() }
                signature = try fd.readAll(limit: BundleContents.maxSignatureBytes)
            } catch {
                throw CLIError("cannot read the signature \(file): \(error)")
            }
        case (let keyFile?, nil):
            let key = try KeyCommands.readSecretKey(keyFile, passwordFile: arguments.value("password-file"))
            let contents: BundleContents
            let manifest: BundleManifest
            do {
                contents = try BundleContents(try BundleReader(path: path))
            } catch {
                throw bundleError(error)
            }
            do {
                manifest = try BundleManifest(parsing: contents.bundleJSON)
            } catch {
                throw CLIError("refusing to sign: bundle.json does not parse: \(error.message)")
            }
            let comment = arguments.value("trusted-comment")
                ?? "bundle:\(manifest.name)@\(manifest.version)\tmodel:sha256:\(manifest.model.sha256)\ttimestamp:\(Int64(Clock.wallSeconds()))"
            do {
                let text = try MinisignSignature.sign(contents.bundleJSON, with: key, trustedComment: comment,
                                                      untrustedComment: "signature of bundle.json from outpost secret key \(Minisign.keyIDText(key.keyID))")
                signature = Array(text.utf8)
            } catch {
                throw CLIError("\(error)")
            }
        }
        do {
            let keyID = try BundleBuilder.attach(signature: signature, to: path)
            print("signed \(path) with key \(keyID)")
        } catch {
            throw bundleError(error)
        }
    }

    // MARK: - verify

    struct VerifyReport: Encodable {
        let verified: Bool
        var check: String?
        var error: String?
        var name: String?
        var version: String?
        var modelFile: String?
        var modelSize: Int64?
        var modelSHA256: String?
        var architecture: String?
        var keyIDs: [String]?
        var threshold: Int?
        var created: String?
        var expires: String?
        enum CodingKeys: String, CodingKey {
            case verified, check, error, name, version, architecture, threshold, created, expires
            case modelFile = "model_file"
            case modelSize = "model_size"
            case modelSHA256 = "model_sha256"
            case keyIDs = "key_ids"
        }
    }

    static func verify(_ arguments: Arguments) throws {
        let path = try onlyBundle(arguments)
        let json = arguments.has("json")
        var config = Config()
        if let configPath = arguments.value("config") {
            config = try Config.load(path: configPath, mustExist: true)
        } else if (try? FileSystem.status(Config.defaultPath)) != nil {
            config = try Config.load(path: Config.defaultPath, mustExist: false)
        }
        let threshold = try arguments.integer("threshold") ?? config.signaturesRequired
        guard (1...64).contains(threshold) else { throw UsageError("--threshold must be from 1 to 64") }
        let trustedPath = arguments.value("trusted") ?? config.trustedDirectory
        let trusted: TrustedKeys
        do {
            trusted = try TrustedKeys.load(trustedPath)
        } catch {
            throw bundleError(error)
        }
        let verifier = BundleVerifier(trusted: trusted, threshold: threshold, now: Int64(Clock.wallSeconds()),
                                      agentVersion: SemanticVersion(BuildInfo.version)!)
        let progress = ProgressLine("checking the model")
        let result: VerifiedBundle
        do {
            result = try verifier.verify(try BundleReader(path: path)) { progress.update(done: $0, total: $1) }
        } catch {
            if json {
                print(JSONWriter.encode(VerifyReport(verified: false, check: error.check?.rawValue, error: error.message)))
            }
            printError("outpost bundle verify: \(path): \(error)")
            throw ExitStatus(code: 1)
        }
        let manifest = result.manifest
        if json {
            print(JSONWriter.encode(VerifyReport(
                verified: true, name: manifest.name, version: manifest.version.description, modelFile: manifest.model.file,
                modelSize: manifest.model.size, modelSHA256: manifest.model.sha256, architecture: manifest.model.architecture,
                keyIDs: result.keyIDs, threshold: threshold, created: manifest.created, expires: manifest.expires)))
            return
        }
        print("verified: \(manifest.name) \(manifest.version)")
        print("model: \(manifest.model.file), \(manifest.model.size) bytes, sha256:\(manifest.model.sha256), \(manifest.model.architecture)")
        print("signed by: \(result.keyIDs.joined(separator: ", ")) (\(result.keyIDs.count) of \(threshold) required)")
        print("created \(manifest.created)" + (manifest.expires.map { ", expires \($0)" } ?? ", never expires"))
    }

    // MARK: - inspect

    struct InspectReport: Encodable {
        struct Signature: Encodable {
            let keyID: String?
            let algorithm: String?
            let trustedComment: String?
            let error: String?
            enum CodingKeys: String, CodingKey {
                case algorithm, error
                case keyID = "key_id"
                case trustedComment = "trusted_comment"
            }
        }
        let format: String
        let files: [String]
        let manifestDigest: String
        let bundle: BundleManifest?
        let bundleError: String?
        let signatures: [Signature]
        enum CodingKeys: String, CodingKey {
            case format, files, bundle, signatures
            case manifestDigest = "manifest_digest"
            case bundleError = "bundle_error"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(format, forKey: .format)
            try container.encode(files, forKey: .files)
            try container.encode(manifestDigest, forKey: .manifestDigest)
            // null rather than absent, so scripts can test the field.
            try container.encode(bundle, forKey: .bundle)
            try container.encode(bundleError, forKey: .bundleError)
            try container.encode(signatures, forKey: .signatures)
        }
    }

    static func inspect(_ arguments: Arguments) throws {
        let path = try onlyBundle(arguments)
        let reader: BundleReader
        let contents: BundleContents
        let files: [String]
        do {
            reader = try BundleReader(path: path)
            contents = try BundleContents(reader)
            files = try reader.fileNames()
        } catch {
            throw bundleError(error)
        }
        var bundle: BundleManifest?
        var bundleError: String?
        do {
            bundle = try BundleManifest(parsing: contents.bundleJSON)
        } catch {
            bundleError = error.message
        }
        let signatures = contents.signatures.map { bytes -> InspectReport.Signature in
            do throws(MinisignError) {
                let parsed = try MinisignSignature(text: String(decoding: bytes, as: UTF8.self))
                return .init(keyID: Minisign.keyIDText(parsed.keyID), algorithm: parsed.algorithm == .prehashed ? "ED" : "Ed",
                             trustedComment: parsed.trustedComment, error: nil)
            } catch {
                return .init(keyID: nil, algorithm: nil, trustedComment: nil, error: error.message)
            }
        }
        if arguments.has("json") {
            print(JSONWriter.encode(InspectReport(format: reader.format.rawValue, files: files, manifestDigest: contents.manifestDescriptor.digest.description,
                                                  bundle: bundle, bundleError: bundleError, signatures: signatures)))
            return
        }
        print("\(path): bundle (\(reader.format.rawValue)), manifest \(contents.manifestDescriptor.digest); NOT verified")
        if let bundle {
            print("name: \(bundle.name)\nversion: \(bundle.version)\ncreated: \(bundle.created)\nexpires: \(bundle.expires ?? "never")")
            print("min agent version: \(bundle.minAgentVersion)")
            print("model: \(bundle.model.file), \(bundle.model.size) bytes, sha256:\(bundle.model.sha256), \(bundle.model.architecture)")
            print("serving: context \(bundle.serving.context.map(String.init) ?? "(agent default)"), chat template \(bundle.serving.chatTemplate ?? "(the model's)")")
            print("smoke test: \"\(bundle.smokeTest.prompt)\" -> \"\(bundle.smokeTest.expected)\" (\(bundle.smokeTest.maxTokens) tokens, Outpost \(bundle.smokeTest.producedBy))")
        } else {
            print("bundle.json: does not parse: \(bundleError ?? "")")
        }
        print("signatures: \(signatures.count)")
        for signature in signatures {
            if let keyID = signature.keyID {
                print("  key \(keyID) (\(signature.algorithm!)): \(signature.trustedComment!)")
            } else {
                print("  unreadable: \(signature.error ?? "")")
            }
        }
        print("files:")
        for file in files {
            let size = (try? reader.size(of: file)) ?? nil
            print("  \(file)\(size.map { " (\($0) bytes)" } ?? "")")
        }
    }
}
