// Errors of the model store, each naming what it was doing and on what.

public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
