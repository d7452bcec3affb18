// What the crypto layer refuses: libsodium failing to start, wrong key or input sizes, failed verification.

public struct SodiumError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
