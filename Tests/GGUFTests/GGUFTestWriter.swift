// A test-only GGUF writer: builds valid files with any metadata and tensors, and lets a test write any field
// wrong on purpose (raw type ids, counts, shapes, offsets) to craft hostile files.
import GGUF

/// Little-endian bytes, appended field by field.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u32(_ v: UInt32) { append(v) }
    mutating func u64(_ v: UInt64) { append(v) }

    mutating func append<T: FixedWidthInteger>(_ v: T) {
        withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
    }

    /// A GGUF string: u64 length, then the bytes.
    mutating func string(_ s: String) { raw(Array(s.utf8), lengthPrefixed: true) }

    mutating func raw(_ data: [UInt8], lengthPrefixed: Bool = false) {
        if lengthPrefixed { u64(UInt64(data.count)) }
        bytes.append(contentsOf: data)
    }

    mutating func pad(to alignment: Int) {
        while bytes.count % alignment != 0 { bytes.append(0) }
    }

    /// Type id, then the value.
    mutating func typedValue(_ value: GGUFValue) {
        u32(value.type.rawValue)
        payload(value)
    }

    mutating func payload(_ value: GGUFValue) {
        switch value {
        case .uint8(let v): append(v)
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .uint64(let v): append(v)
        case .int64(let v): append(v)
        case .float32(let v): append(v.bitPattern)
        case .float64(let v): append(v.bitPattern)
        case .bool(let v): u8(v ? 1 : 0)
        case .string(let v): string(v)
        case .array(let array): arrayPayload(array)
        }
    }

    /// Element type, count, elements.
    mutating func arrayPayload(_ array: GGUFArray) {
        u32(array.elementType.rawValue)
        u64(UInt64(array.count))
        switch array {
        case .uint8s(let a): a.forEach { append($0) }
        case .int8s(let a): a.forEach { append($0) }
        case .uint16s(let a): a.forEach { append($0) }
        case .int16s(let a): a.forEach { append($0) }
        case .uint32s(let a): a.forEach { append($0) }
        case .int32s(let a): a.forEach { append($0) }
        case .uint64s(let a): a.forEach { append($0) }
        case .int64s(let a): a.forEach { append($0) }
        case .float32s(let a): a.forEach { append($0.bitPattern) }
        case .float64s(let a): a.forEach { append($0.bitPattern) }
        case .bools(let a): a.forEach { u8($0 ? 1 : 0) }
        case .strings(let a): a.forEach { string($0) }
        case .arrays(let a): a.forEach { arrayPayload($0) }
        }
    }
}

/// A directory entry to write. The raw fields can hold anything, including what the format forbids.
struct TestTensor {
    var name: String
    var dimensions: [UInt64]
    var typeID: UInt32
    /// Offset relative to the data section; nil places the tensor at the next aligned position.
    var offset: UInt64?
    /// The bytes to write; nil writes a recognisable pattern of the size the shape and type call for.
    var data: [UInt8]?
    /// Leave the bytes out of the data section (for tensors that claim to lie past the end of the file).
    var omitData = false

    init(_ name: String, _ type: GGMLType, _ dimensions: [Int], data: [UInt8]? = nil, offset: UInt64? = nil) {
        self.name = name
        self.dimensions = dimensions.map(UInt64.init)
        self.typeID = type.rawValue
        self.data = data
        self.offset = offset
    }

    init(name: String, rawDimensions: [UInt64], typeID: UInt32, offset: UInt64? = nil, omitData: Bool = false) {
        self.name = name
        self.dimensions = rawDimensions
        self.typeID = typeID
        self.offset = offset
        self.omitData = omitData
    }

    /// The size the shape and type call for, or 0 when they are not valid or too big to write in a test.
    var expectedByteCount: Int {
        guard let type = GGMLType(rawValue: typeID), let first = dimensions.first, !dimensions.contains(0),
              dimensions.allSatisfy({ $0 < 1 << 24 }),
              var size = type.rowBytes(Int(first)) else { return 0 }
        for dimension in dimensions.dropFirst() {
            size *= Int(dimension)
            if size > 1 << 24 { return 0 }
        }
        return size
    }

    var bytes: [UInt8] {
        data ?? (0..<expectedByteCount).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ name.utf8.count) }
    }
}

/// A metadata entry: a well-formed value, or raw bytes written after the key in place of type and value.
enum TestEntry {
    case value(GGUFValue)
    case raw([UInt8])
}

struct GGUFTestWriter {
    var magic: [UInt8] = Array("GGUF".utf8)
    var version: UInt32 = 3
    /// Used for padding and placement only; the file says its alignment through `general.alignment`.
    var alignment = 32
    var metadata: [(key: String, entry: TestEntry)] = []
    var tensors: [TestTensor] = []
    var tensorCountOverride: UInt64?
    var metadataCountOverride: UInt64?

    init(version: UInt32 = 3, metadata: [(String, GGUFValue)] = [], tensors: [TestTensor] = []) {
        self.version = version
        self.metadata = metadata.map { (key: $0.0, entry: .value($0.1)) }
        self.tensors = tensors
    }

    mutating func add(_ key: String, _ value: GGUFValue) { metadata.append((key: key, entry: .value(value))) }
    mutating func addRaw(_ key: String, _ bytes: [UInt8]) { metadata.append((key: key, entry: .raw(bytes))) }

    /// Sets the alignment used for layout and records it as `general.alignment`.
    mutating func align(to alignment: Int) {
        self.alignment = alignment
        add("general.alignment", .uint32(UInt32(alignment)))
    }

    /// Relative offsets: the explicit ones, or the next aligned position after the tensors placed so far.
    var placements: [UInt64] {
        var next: UInt64 = 0
        return tensors.map { tensor in
            let offset = tensor.offset ?? next
            let end = offset &+ UInt64(tensor.omitData ? 0 : tensor.bytes.count)
            let a = UInt64(alignment)
            next = max(next, (end &+ a &- 1) / a &* a)
            return offset
        }
    }

    /// Header, metadata and tensor directory, padded to the alignment: the data section starts right after.
    func header() -> [UInt8] {
        var w = ByteWriter()
        w.raw(magic)
        w.u32(version)
        w.u64(tensorCountOverride ?? UInt64(tensors.count))
        w.u64(metadataCountOverride ?? UInt64(metadata.count))
        for (key, entry) in metadata {
            w.string(key)
            switch entry {
            case .value(let value): w.typedValue(value)
            case .raw(let bytes): w.raw(bytes)
            }
        }
        for (tensor, offset) in zip(tensors, placements) {
            w.string(tensor.name)
            w.u32(UInt32(tensor.dimensions.count))
            tensor.dimensions.forEach { w.u64($0) }
            w.u32(tensor.typeID)
            w.u64(offset)
        }
        w.pad(to: alignment)
        return w.bytes
    }

    /// The data section: each tensor's bytes at its offset, zeros between.
    func dataSection() -> [UInt8] {
        var data: [UInt8] = []
        for (tensor, offset) in zip(tensors, placements) where !tensor.omitData {
            let bytes = tensor.bytes
            let end = Int(offset) + bytes.count
            if data.count < end { data.append(contentsOf: repeatElement(0, count: end - data.count)) }
            data.replaceSubrange(Int(offset)..<end, with: bytes)
        }
        return data
    }

    func build() -> [UInt8] { header() + dataSection() }
}
