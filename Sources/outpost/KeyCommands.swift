// `outpost keygen`: a minisign-compatible key pair for signing bundles (the central team's side).
import Arguments
import Bundles
import Platform

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
            let text: String
            do {
                text = try ProcessStats.readSmallFile(file, limit: 4096)
            } catch {
                throw CLIError("cannot read the password: \(error)")
            }
            // The first line, as minisign reads a piped password.
            let line = Array(text.utf8.prefix { $0 != UInt8(ascii: "\n") })
            guard !line.isEmpty else { throw CLIError("\(file) holds an empty password") }
            password = line
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
}
