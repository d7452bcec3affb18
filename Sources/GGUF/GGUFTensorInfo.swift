// One entry of a GGUF file's tensor directory, with its place in the file already checked.

/// A tensor's name, shape, element type and where its bytes lie.
public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: `dimensions[0]` (ne0) is the row length, the rest count rows, matrices and batches.
    /// One to four entries, each at least 1; their product fits in `Int`.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Absolute byte offset in the file (the data section's start plus the tensor's relative offset).
    public let offset: Int
    public let byteCount: Int

    public var elementCount: Int { dimensions.reduce(1, *) }

    /// Rows of `dimensions[0]` elements: the product of the dimensions after the first.
    public var rows: Int { dimensions.dropFirst().reduce(1, *) }

    /// Bytes in one row; a row is always a whole number of blocks.
    public var rowBytes: Int { byteCount / rows }
}

extension GGUFTensorInfo: CustomStringConvertible {
    /// "blk.0.attn_q.weight Q5_0 [640, 1024]"
    public var description: String { "\(name) \(type.name) \(dimensions)" }
}
