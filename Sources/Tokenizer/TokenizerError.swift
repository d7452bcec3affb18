// The one error type of the Tokenizer module.

/// A vocabulary or chat template that cannot be used, with the GGUF key or token it concerns.
public struct TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What was being read: a GGUF key ("tokenizer.ggml.tokens"), a token ("token 262144"), or "chat template".
    public let subject: String
    public let message: String

    public init(_ subject: String, _ message: String) {
        self.subject = subject
        self.message = message
    }

    public var description: String { "tokenizer: \(subject): \(message)" }
}
