// Typed metadata lookups: each names the key in its error when the entry is missing or of another type.
//
// Integer accessors accept any integer width (converters write u32 or u64 for the same hyperparameter) and
// check that the value fits in Int; float accessors also accept f64 and integers.

extension GGUFFile {
    public func string(_ key: String) throws(GGUFError) -> String { try asString(key, require(key)) }
    public func integer(_ key: String) throws(GGUFError) -> Int { try asInteger(key, require(key)) }
    public func float(_ key: String) throws(GGUFError) -> Float { try asFloat(key, require(key)) }
    public func bool(_ key: String) throws(GGUFError) -> Bool { try asBool(key, require(key)) }
    public func strings(_ key: String) throws(GGUFError) -> [String] { try asStrings(key, require(key)) }
    public func floats(_ key: String) throws(GGUFError) -> [Float] { try asFloats(key, require(key)) }
    public func integers(_ key: String) throws(GGUFError) -> [Int] { try asIntegers(key, require(key)) }

    // The optional variants return nil when the key is absent and still throw when it holds another type.

    public func optionalString(_ key: String) throws(GGUFError) -> String? {
        guard let value = self[key] else { return nil }
        return try asString(key, value)
    }

    public func optionalInteger(_ key: String) throws(GGUFError) -> Int? {
        guard let value = self[key] else { return nil }
        return try asInteger(key, value)
    }

    public func optionalFloat(_ key: String) throws(GGUFError) -> Float? {
        guard let value = self[key] else { return nil }
        return try asFloat(key, value)
    }

    public func optionalBool(_ key: String) throws(GGUFError) -> Bool? {
        guard let value = self[key] else { return nil }
        return try asBool(key, value)
    }

    public func optionalStrings(_ key: String) throws(GGUFError) -> [String]? {
        guard let value = self[key] else { return nil }
        return try asStrings(key, value)
    }

    public func optionalFloats(_ key: String) throws(GGUFError) -> [Float]? {
        guard let value = self[key] else { return nil }
        return try asFloats(key, value)
    }

    public func optionalIntegers(_ key: String) throws(GGUFError) -> [Int]? {
        guard let value = self[key] else { return nil }
        return try asIntegers(key, value)
    }

    private func require(_ key: String) throws(GGUFError) -> GGUFValue {
        guard let value = self[key] else {
            throw GGUFError(field: "metadata '\(key)'", offset: -1, message: "missing")
        }
        return value
    }

    private func mismatch(_ key: String, expected: String, found value: GGUFValue) -> GGUFError {
        GGUFError(field: "metadata '\(key)'", offset: metadataOffset(key), message: "expected \(expected), found \(value.typeName)")
    }

    private func asString(_ key: String, _ value: GGUFValue) throws(GGUFError) -> String {
        guard case .string(let string) = value else { throw mismatch(key, expected: "a string", found: value) }
        return string
    }

    private func asBool(_ key: String, _ value: GGUFValue) throws(GGUFError) -> Bool {
        guard case .bool(let bool) = value else { throw mismatch(key, expected: "a bool", found: value) }
        return bool
    }

    private func asInteger(_ key: String, _ value: GGUFValue) throws(GGUFError) -> Int {
        switch value {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .int64(let v): return Int(v)
        case .uint64(let v):
            guard let int = Int(exactly: v) else {
                throw GGUFError(field: "metadata '\(key)'", offset: metadataOffset(key), message: "value \(v) does not fit in Int")
            }
            return int
        default:
            throw mismatch(key, expected: "an integer", found: value)
        }
    }

    private func asFloat(_ key: String, _ value: GGUFValue) throws(GGUFError) -> Float {
        switch value {
        case .float32(let v): return v
        case .float64(let v): return Float(v)
        case .uint8(let v): return Float(v)
        case .int8(let v): return Float(v)
        case .uint16(let v): return Float(v)
        case .int16(let v): return Float(v)
        case .uint32(let v): return Float(v)
        case .int32(let v): return Float(v)
        case .uint64(let v): return Float(v)
        case .int64(let v): return Float(v)
        default: throw mismatch(key, expected: "a number", found: value)
        }
    }

    private func asStrings(_ key: String, _ value: GGUFValue) throws(GGUFError) -> [String] {
        guard case .array(.strings(let strings)) = value else {
            throw mismatch(key, expected: "an array of strings", found: value)
        }
        return strings
    }

    private func asFloats(_ key: String, _ value: GGUFValue) throws(GGUFError) -> [Float] {
        guard case .array(let array) = value else { throw mismatch(key, expected: "an array of numbers", found: value) }
        switch array {
        case .float32s(let a): return a
        case .float64s(let a): return a.map(Float.init)
        case .uint8s(let a): return a.map(Float.init)
        case .int8s(let a): return a.map(Float.init)
        case .uint16s(let a): return a.map(Float.init)
        case .int16s(let a): return a.map(Float.init)
        case .uint32s(let a): return a.map(Float.init)
        case .int32s(let a): return a.map(Float.init)
        case .uint64s(let a): return a.map(Float.init)
        case .int64s(let a): return a.map(Float.init)
        case .bools, .strings, .arrays: throw mismatch(key, expected: "an array of numbers", found: value)
        }
    }

    private func asIntegers(_ key: String, _ value: GGUFValue) throws(GGUFError) -> [Int] {
        guard case .array(let array) = value else { throw mismatch(key, expected: "an array of integers", found: value) }
        switch array {
        case .uint8s(let a): return a.map(Int.init)
        case .int8s(let a): return a.map(Int.init)
        case .uint16s(let a): return a.map(Int.init)
        case .int16s(let a): return a.map(Int.init)
        case .uint32s(let a): return a.map(Int.init)
        case .int32s(let a): return a.map(Int.init)
        case .int64s(let a): return a.map(Int.init)
        case .uint64s(let a):
            var ints: [Int] = []
            ints.reserveCapacity(a.count)
            for (position, v) in a.enumerated() {
                guard let int = Int(exactly: v) else {
                    throw GGUFError(
                        field: "metadata '\(key)'", offset: metadataOffset(key),
                        message: "element \(position) (\(v)) does not fit in Int")
                }
                ints.append(int)
            }
            return ints
        case .float32s, .float64s, .bools, .strings, .arrays:
            throw mismatch(key, expected: "an array of integers", found: value)
        }
    }
}
