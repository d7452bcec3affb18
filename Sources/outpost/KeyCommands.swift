// `outpost keygen`: a minisign-compatible key pair for signing bundles (the central team's side).
import Arguments
import Bundles
import Platform
import Sodium

enum KeyCommands {
    static func keygen(_ arguments: Arguments) throws -> Int32 {
        let publicPath = arguments.value("public-key") ?? "outpost.pub"
        let secretPath = arguments.value("secret-key") ?? "outpost.key"
        guard !publicPath.isEmpty, !secretPath.isEmpty, publicPath != secretPath else {
            throw UsageError("--public-key and --secret-key need two different, non-empty paths")
        }
        if !arguments.has("force") {
            for path in [publicPath, secretPath] {
                guard let existing = try? FileDescriptor.open(path, .readOnly) else { continue }
                existing.close()
                throw CLIError("\(path) exists; keeping it (--force replaces it)")
            }
        }
        var password: [UInt8]?
        if let file = arguments.value("password-file") {
            guard !arguments.has("no-password") else { throw UsageError("give --password-file or --no-password, not both") }
            password = try passwordFromFile(file)
        } else if !arguments.has("no-password") {
            guard let first = SecretInput.readLine(prompt: "Password for the new secret key: ") else {
                throw CLIError("no password given (type it, pipe it on standard input, or use --no-password)")
            }
            guard !first.isEmpty else { throw CLIError("an empty password; use --no-password for an unencrypted key") }
            if SecretInput.isTerminal {
                guard SecretInput.readLine(prompt: "Password (again): ") == first else { throw CLIError("the passwords differ") }
            }
            password = first
        }
        let key = try MinisignSecretKey.generate()
        if !SecretInput.isTerminal && password != nil { printError("deriving the key's encryption key (scrypt, about a second)...") }
        let secretText = try key.text(password: password)
        do {
            try AtomicFile.write(Array(secretText.utf8), to: secretPath, mode: 0o600)
            try AtomicFile.write(Array(key.publicKey.text().utf8), to: publicPath, mode: 0o644)
        } catch {
            throw CLIError("cannot write the key pair: \(error)")
        }
        let line = key.publicKey.text().split(separator: "\n")[1]
        print("key id \(Minisign.keyIDText(key.keyID)): secret key \(secretPath)\(password == nil ? " (unencrypted)" : ""), public key \(publicPath)")
        print("minisign -Vm <file> -P \(line)")
        return 0
    }

    /// The first line of `file`, as minisign reads a piped password.
    static func passwordFromFile(_ file: String) throws -> [UInt8] {
        let text: String
        do {
            text = try ProcessStats.readSmallFile(file, limit: 4096)
        } catch {
            throw CLIError("cannot read the password: \(error)")
        }
        let line = Array(text.utf8.prefix { $0 != UInt8(ascii: "\n") })
        guard !line.isEmpty else { throw CLIError("\(file) holds an empty password") }
        return line
    }

    /// A secret key file (minisign's format); an encrypted one is opened with the password from `passwordFile`,
    /// the terminal or standard input.
    static func readSecretKey(_ path: String, passwordFile: String?) throws -> MinisignSecretKey {
        let text: String
        do {
            text = try ProcessStats.readSmallFile(path, limit: 4096)
        } catch {
            throw CLIError("cannot read the secret key: \(error)")
        }
        let encrypted = !text.contains("\n") || (try? MinisignSecretKey(text: text, password: nil, what: path)) == nil
        var password: [UInt8]?
        if encrypted {
            if let passwordFile {
                password = try passwordFromFile(passwordFile)
            } else {
                guard let typed = SecretInput.readLine(prompt: "Password for \(path): ") else {
                    throw CLIError("\(path) is encrypted: give its password (terminal, standard input or --password-file)")
                }
                password = typed
            }
        }
        defer { if password != nil { Sodium.wipe(&password!) } }
        if password != nil && !SecretInput.isTerminal { printError("deriving the key's decryption key (scrypt, about a second)...") }
        return try MinisignSecretKey(text: text, password: password, what: path)
    }
}
