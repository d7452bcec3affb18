// Why a vocabulary cannot be used, naming the GGUF key or token at fault.

public struct TokenizerError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
