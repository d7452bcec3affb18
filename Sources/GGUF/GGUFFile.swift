// A parsed GGUF file: header, metadata and tensor directory, over bytes someone else keeps alive.

/// A GGUF v2 or v3 file whose header, metadata and tensor directory have been read and checked.
///
/// Parsing reads only the header region; tensor bytes are handed out as views into `bytes` by `data(_:)`
/// without being touched. Those views are valid as long as this object lives.
///
/// Sendable because nothing changes after `init`: `bytes` is only read, and `owner` is held, never used.
public final class GGUFFile: @unchecked Sendable {
    public let version: UInt32
    public let alignment: Int
    /// Where the data section starts: the end of the tensor directory rounded up to `alignment`. In a file with
    /// no tensors this may lie past the end of the file.
    public let dataOffset: Int
    /// Every key/value pair in file order.
    public let metadata: [(key: String, value: GGUFValue)]
    /// The tensor directory in file order; offsets are absolute.
    public let tensors: [GGUFTensorInfo]
    /// The whole file.
    public let bytes: UnsafeRawBufferPointer

    private let owner: AnyObject?
    private let metadataIndex: [String: Int]
    private let metadataOffsets: [Int]
    private let tensorIndex: [String: Int]

    /// Parses header, metadata and tensor directory from `bytes`; `owner` keeps the memory alive (a mapped file,
    /// an owned buffer) for as long as this object and the tensor views it hands out are in use.
    public init(bytes: UnsafeRawBufferPointer, owner: AnyObject?) throws(GGUFError) {
        var parser = GGUFParser(bytes)
        let parsed = try parser.parse()
        self.version = parsed.version
        self.alignment = parsed.alignment
        self.dataOffset = parsed.dataOffset
        self.metadata = parsed.metadata.entries
        self.metadataIndex = parsed.metadata.index
        self.metadataOffsets = parsed.metadata.offsets
        self.tensors = parsed.tensors
        self.tensorIndex = parsed.tensorIndex
        self.bytes = bytes
        self.owner = owner
    }

    /// Copies `bytes` into a buffer the file owns (for tests and small in-memory files).
    public convenience init(bytes: [UInt8]) throws(GGUFError) {
        let storage = OwnedBytes(copying: bytes)
        try self.init(bytes: UnsafeRawBufferPointer(storage.buffer), owner: storage)
    }

    public subscript(key: String) -> GGUFValue? {
        metadataIndex[key].map { metadata[$0].value }
    }

    public func tensor(_ name: String) -> GGUFTensorInfo? {
        tensorIndex[name].map { tensors[$0] }
    }

    /// The tensor's bytes, a view into `bytes`. `tensor` must come from this file.
    public func data(_ tensor: GGUFTensorInfo) -> UnsafeRawBufferPointer {
        precondition(
            tensor.offset >= dataOffset && tensor.byteCount <= bytes.count - tensor.offset,
            "tensor '\(tensor.name)' does not belong to this file")
        return UnsafeRawBufferPointer(rebasing: bytes[tensor.offset..<(tensor.offset + tensor.byteCount)])
    }

    /// Where the metadata entry for `key` starts in the file, for error messages; -1 when absent.
    func metadataOffset(_ key: String) -> Int {
        metadataIndex[key].map { metadataOffsets[$0] } ?? -1
    }
}

/// Heap memory that lives as long as the `GGUFFile` made from an array. Aligned to 64 bytes so that tensor data
/// sits as it would in a mapped file.
private final class OwnedBytes {
    let buffer: UnsafeMutableRawBufferPointer

    init(copying bytes: [UInt8]) {
        buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
    }

    deinit { buffer.deallocate() }
}
