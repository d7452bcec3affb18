// Why a model cannot be loaded or run, naming the GGUF key, tensor or parameter at fault.

public struct ModelError: Error, Equatable, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
