// The metadata section: key/value pairs, scalars, strings and (at most two levels of) arrays.

/// Metadata in file order, an index by key, and where each entry starts (for error messages later).
struct ParsedMetadata {
    var entries: [(key: String, value: GGUFValue)] = []
    var offsets: [Int] = []
    var index: [String: Int] = [:]
}

extension GGUFParser {
    mutating func readMetadata(count: Int) throws(GGUFError) -> ParsedMetadata {
        var metadata = ParsedMetadata()
        metadata.entries.reserveCapacity(count)
        metadata.offsets.reserveCapacity(count)
        metadata.index.reserveCapacity(count)
        for number in 0..<count {
            let start = cursor.offset
            let key = try readKey(number)
            let field = "metadata '\(key)'"
            if let first = metadata.index[key] {
                throw GGUFError(field: field, offset: start, message: "duplicate key (first defined by metadata entry #\(first))")
            }
            let type = try readValueType(field + " type")
            let value = try readValue(type, field: field, depth: 0)
            metadata.index[key] = metadata.entries.count
            metadata.entries.append((key: key, value: value))
            metadata.offsets.append(start)
        }
        return metadata
    }

    private mutating func readKey(_ number: Int) throws(GGUFError) -> String {
        let start = cursor.offset
        let raw = try cursor.lengthPrefixed("metadata #\(number) key", limit: GGUFLimits.maxKeyBytes)
        guard !raw.isEmpty else {
            throw GGUFError(field: "metadata #\(number) key", offset: start, message: "key is empty")
        }
        guard let key = raw.validUTF8 else {
            throw GGUFError(field: "metadata #\(number) key", offset: start, message: "key is not valid UTF-8")
        }
        return key
    }

    private mutating func readValueType(_ field: @autoclosure () -> String) throws(GGUFError) -> GGUFValueType {
        let start = cursor.offset
        let raw = try cursor.read(UInt32.self, field())
        guard let type = GGUFValueType(rawValue: raw) else {
            throw GGUFError(field: field(), offset: start, message: "unknown value type id \(raw) (known: 0 to 12)")
        }
        return type
    }

    /// `depth` counts the arrays already entered around this value.
    private mutating func readValue(_ type: GGUFValueType, field: String, depth: Int) throws(GGUFError) -> GGUFValue {
        switch type {
        case .uint8: return try .uint8(cursor.read(UInt8.self, field))
        case .int8: return try .int8(cursor.read(Int8.self, field))
        case .uint16: return try .uint16(cursor.read(UInt16.self, field))
        case .int16: return try .int16(cursor.read(Int16.self, field))
        case .uint32: return try .uint32(cursor.read(UInt32.self, field))
        case .int32: return try .int32(cursor.read(Int32.self, field))
        case .uint64: return try .uint64(cursor.read(UInt64.self, field))
        case .int64: return try .int64(cursor.read(Int64.self, field))
        case .float32: return try .float32(Float(bitPattern: cursor.read(UInt32.self, field)))
        case .float64: return try .float64(Double(bitPattern: cursor.read(UInt64.self, field)))
        case .bool: return try .bool(readBools(count: 1, field: field)[0])
        case .string: return try .string(cursor.lengthPrefixed(field, limit: GGUFLimits.maxStringBytes).lossyUTF8)
        case .array: return try .array(readArray(field: field, depth: depth + 1))
        }
    }

    /// Reads an array header (element type, count) and its elements. The count is capped and checked against
    /// the bytes remaining before any storage is reserved.
    private mutating func readArray(field: String, depth: Int) throws(GGUFError) -> GGUFArray {
        let typeStart = cursor.offset
        let type = try readValueType(field + " array element type")
        if type == .array && depth >= GGUFLimits.maxArrayDepth {
            throw GGUFError(
                field: field + " array element type", offset: typeStart,
                message: "arrays nested more than \(GGUFLimits.maxArrayDepth) levels deep are not supported")
        }
        let countStart = cursor.offset
        let rawCount = try cursor.read(UInt64.self, field + " array count")
        guard rawCount <= UInt64(GGUFLimits.maxArrayElements) else {
            throw GGUFError(
                field: field + " array count", offset: countStart,
                message: "\(rawCount) elements exceed the limit of \(GGUFLimits.maxArrayElements)")
        }
        let count = Int(rawCount)
        try cursor.requireRoom(forCount: count, minimumSize: type.minimumSize, field + " array count", at: countStart)

        switch type {
        case .uint8: return try .uint8s(readPlain(UInt8.self, count: count, field: field))
        case .int8: return try .int8s(readPlain(Int8.self, count: count, field: field))
        case .uint16: return try .uint16s(readPlain(UInt16.self, count: count, field: field))
        case .int16: return try .int16s(readPlain(Int16.self, count: count, field: field))
        case .uint32: return try .uint32s(readPlain(UInt32.self, count: count, field: field))
        case .int32: return try .int32s(readPlain(Int32.self, count: count, field: field))
        case .uint64: return try .uint64s(readPlain(UInt64.self, count: count, field: field))
        case .int64: return try .int64s(readPlain(Int64.self, count: count, field: field))
        case .float32: return try .float32s(readPlain(Float.self, count: count, field: field))
        case .float64: return try .float64s(readPlain(Double.self, count: count, field: field))
        case .bool: return try .bools(readBools(count: count, field: field))
        case .string: return try .strings(readStrings(count: count, field: field))
        case .array:
            var arrays: [GGUFArray] = []
            arrays.reserveCapacity(count)
            for element in 0..<count {
                arrays.append(try readArray(field: "\(field) element \(element)", depth: depth + 1))
            }
            return .arrays(arrays)
        }
    }

    /// Fixed-size elements are copied in one go: on a little-endian host the file's bytes are the values.
    private mutating func readPlain<T: BitwiseCopyable>(_: T.Type, count: Int, field: String) throws(GGUFError) -> [T] {
        let raw = try cursor.take(count * MemoryLayout<T>.stride, field)
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawBufferPointer(buffer).copyMemory(from: raw)
            initialized = count
        }
    }

    /// Booleans are one byte each; the format allows only 0 and 1.
    private mutating func readBools(count: Int, field: String) throws(GGUFError) -> [Bool] {
        let start = cursor.offset
        let raw = try cursor.take(count, field)
        var values: [Bool] = []
        values.reserveCapacity(count)
        for (position, byte) in raw.enumerated() {
            guard byte <= 1 else {
                let which = count == 1 ? field : "\(field) element \(position)"
                throw GGUFError(field: which, offset: start + position, message: "bool byte is \(byte); only 0 and 1 are allowed")
            }
            values.append(byte == 1)
        }
        return values
    }

    /// The hot path for vocabularies: one length check and one String per element, nothing else.
    private mutating func readStrings(count: Int, field: String) throws(GGUFError) -> [String] {
        var strings: [String] = []
        strings.reserveCapacity(count)
        for element in 0..<count {
            let raw = try cursor.lengthPrefixed("\(field) element \(element)", limit: GGUFLimits.maxStringBytes)
            strings.append(raw.lossyUTF8)
        }
        return strings
    }
}
