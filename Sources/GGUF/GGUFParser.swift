// Reads a GGUF file in the order it is laid out: magic, version, counts, metadata, tensor directory, then
// the placement of every tensor's bytes. Each step checks what the file claims against what it holds.
//
// Layout (all little-endian):
//   "GGUF" | u32 version | u64 tensor count | u64 metadata count
//   metadata × count:  string key | u32 value type | value
//   tensors × count:   string name | u32 n_dims | u64 ne[n_dims] | u32 ggml type | u64 offset in data section
//   padding to the alignment | data section
// A string is a u64 byte length followed by that many bytes (no terminator).

#if _endian(big)
#error("The GGUF reader copies little-endian arrays straight into memory and needs a little-endian host.")
#endif

/// Everything `GGUFFile` keeps from a successful parse.
struct ParsedGGUF {
    var version: UInt32
    var alignment: Int
    var dataOffset: Int
    var metadata: ParsedMetadata
    var tensors: [GGUFTensorInfo]
    var tensorIndex: [String: Int]
}

struct GGUFParser {
    var cursor: ByteCursor

    init(_ bytes: UnsafeRawBufferPointer) {
        cursor = ByteCursor(bytes)
    }

    /// The fewest bytes a metadata entry can take: key length, a one-byte key, value type, a one-byte value.
    static let minimumEntrySize = 8 + 1 + 4 + 1
    /// The fewest bytes a tensor directory entry can take: name length, a one-byte name, n_dims, one
    /// dimension, type, offset.
    static let minimumTensorInfoSize = 8 + 1 + 4 + 8 + 4 + 8

    mutating func parse() throws(GGUFError) -> ParsedGGUF {
        try readMagic()
        let version = try readVersion()
        let tensorCount = try readCount(
            "tensor count", limit: GGUFLimits.maxTensors, minimumSize: Self.minimumTensorInfoSize)
        let metadataCount = try readCount(
            "metadata count", limit: GGUFLimits.maxMetadataEntries, minimumSize: Self.minimumEntrySize)
        let metadata = try readMetadata(count: metadataCount)
        let alignment = try Self.alignment(in: metadata)
        let records = try readTensorInfos(count: tensorCount, alignment: alignment)
        let dataOffset = try dataSectionStart(alignment: alignment)
        let tensors = try place(records, dataOffset: dataOffset)
        var tensorIndex: [String: Int] = [:]
        tensorIndex.reserveCapacity(tensors.count)
        for (position, tensor) in tensors.enumerated() { tensorIndex[tensor.name] = position }
        return ParsedGGUF(
            version: version, alignment: alignment, dataOffset: dataOffset, metadata: metadata,
            tensors: tensors, tensorIndex: tensorIndex)
    }

    private mutating func readMagic() throws(GGUFError) {
        guard cursor.remaining >= 4 else {
            throw GGUFError(
                field: "magic", offset: 0,
                message: "file is \(cursor.remaining) bytes, too short to hold the \"GGUF\" magic")
        }
        let magic = try cursor.take(4, "magic")
        guard magic.elementsEqual("GGUF".utf8) else {
            let shown = magic.map { $0 >= 0x20 && $0 < 0x7F ? String(UnicodeScalar($0)) : "?" }.joined()
            throw GGUFError(field: "magic", offset: 0, message: "expected \"GGUF\", found \"\(shown)\"; not a GGUF file")
        }
    }

    private mutating func readVersion() throws(GGUFError) -> UInt32 {
        let start = cursor.offset
        let version = try cursor.read(UInt32.self, "version")
        switch version {
        case 2, 3:
            return version
        case 1:
            throw GGUFError(
                field: "version", offset: start,
                message: "GGUF version 1 is no longer supported (it used 32-bit counts); convert the model again with a current llama.cpp")
        case _ where version != 0 && version & 0xFFFF == 0:
            throw GGUFError(
                field: "version", offset: start,
                message: "version \(version) looks byte-swapped: a big-endian GGUF file, which this reader does not support")
        default:
            throw GGUFError(field: "version", offset: start, message: "unsupported GGUF version \(version) (supported: 2 and 3)")
        }
    }

    /// Reads a u64 count, caps it, and checks that the bytes left could hold that many entries, so that no
    /// capacity is reserved for entries the file cannot contain.
    private mutating func readCount(_ field: String, limit: Int, minimumSize: Int) throws(GGUFError) -> Int {
        let start = cursor.offset
        let raw = try cursor.read(UInt64.self, field)
        guard raw <= UInt64(limit) else {
            throw GGUFError(field: field, offset: start, message: "\(raw) exceeds the limit of \(limit)")
        }
        let count = Int(raw)
        try cursor.requireRoom(forCount: count, minimumSize: minimumSize, field, at: start)
        return count
    }

    /// `general.alignment` when present (a u32, a non-zero power of two), else the default 32.
    private static func alignment(in metadata: ParsedMetadata) throws(GGUFError) -> Int {
        let key = "general.alignment"
        guard let position = metadata.index[key] else { return GGUFLimits.defaultAlignment }
        let value = metadata.entries[position].value
        let field = "metadata '\(key)'"
        guard case .uint32(let alignment) = value else {
            throw GGUFError(
                field: field, offset: metadata.offsets[position], message: "must be a u32, found \(value.typeName)")
        }
        guard alignment != 0, alignment & (alignment - 1) == 0 else {
            throw GGUFError(
                field: field, offset: metadata.offsets[position],
                message: "alignment \(alignment) is not a non-zero power of two")
        }
        return Int(alignment)
    }

    /// The data section starts at the end of the tensor directory rounded up to the alignment.
    private func dataSectionStart(alignment: Int) throws(GGUFError) -> Int {
        let headerEnd = cursor.offset
        let (padded, overflow) = headerEnd.addingReportingOverflow(alignment - 1)
        guard !overflow else {
            throw GGUFError(field: "data section", offset: headerEnd, message: "start overflows when aligned to \(alignment)")
        }
        return padded / alignment * alignment
    }
}
