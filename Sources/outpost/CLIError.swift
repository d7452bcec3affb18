// How a command fails: a message for stderr (exit status 1), or a status after the command has said everything.

public struct CLIError: Error, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Ends the command with `code`; what there was to say has been printed already (a failed `bundle verify --json`).
struct ExitStatus: Error {
    let code: Int32
}
