// Why the serving side could not do what it was asked: a model that cannot be opened, loaded or fitted in the
// memory budget. One sentence, naming the model or file.

public struct ServingError: Error, Sendable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
