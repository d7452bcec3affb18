// The one error type of the GGUF module: which field was wrong, where in the file, and why.

/// A GGUF file (or a lookup in one) that cannot be used as asked.
///
/// `field` names what was being read ("tensor count", "metadata 'general.alignment'",
/// "tensor 'blk.0.attn_q.weight' data"); `offset` is the byte offset in the file where that field starts,
/// or -1 when the error is not tied to a position (a metadata key that is absent).
public struct GGUFError: Error, Equatable, Sendable, CustomStringConvertible {
    public let field: String
    public let offset: Int
    public let message: String

    public init(field: String, offset: Int, message: String) {
        self.field = field
        self.offset = offset
        self.message = message
    }

    public var description: String {
        offset >= 0 ? "GGUF: \(field) [offset \(offset)]: \(message)" : "GGUF: \(field): \(message)"
    }
}
