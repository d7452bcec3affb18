// Typed reading of one JSON object's members, with errors that name the field and say what was wrong.
// A member given as null counts as absent (OpenAI clients send null for fields they leave unset).

public struct JSONFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct JSONObjectReader: Sendable {
    public let members: [(key: String, value: JSONValue)]
    /// Where the object sits ("messages.0"); empty for the document itself.
    public let path: String

    public init(_ value: JSONValue, path: String = "") throws(JSONFieldError) {
        guard case .object(let members) = value else {
            throw JSONFieldError(path.isEmpty ? "the body must be a JSON object, got \(value.kindName)"
                                              : "field '\(path)' has the wrong type: expected an object, got \(value.kindName)")
        }
        self.members = members
        self.path = path
    }

    /// Parses a whole document that must be an object (a request body); a syntax error becomes a field error
    /// with the parser's message.
    public init(parsing bytes: [UInt8]) throws(JSONFieldError) {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw JSONFieldError(error.description)
        }
        try self.init(value)
    }

    /// The full name of member `key`, for messages.
    public func name(_ key: String) -> String { path.isEmpty ? key : path + "." + key }

    /// The member's value, nil when absent or null.
    public func value(_ key: String) -> JSONValue? {
        guard let found = members.first(where: { $0.key == key })?.value, found != .null else { return nil }
        return found
    }

    public func wrongType(_ key: String, expected: String, got value: JSONValue) -> JSONFieldError {
        JSONFieldError("field '\(name(key))' has the wrong type: expected \(expected), got \(value.kindName)")
    }

    public func required<T>(_ key: String, _ read: (String) throws(JSONFieldError) -> T?) throws(JSONFieldError) -> T {
        guard let value = try read(key) else { throw JSONFieldError("missing field '\(name(key))'") }
        return value
    }

    public func string(_ key: String) throws(JSONFieldError) -> String? {
        guard let value = value(key) else { return nil }
        guard case .string(let text) = value else { throw wrongType(key, expected: "a string", got: value) }
        return text
    }

    public func bool(_ key: String) throws(JSONFieldError) -> Bool? {
        guard let value = value(key) else { return nil }
        guard case .bool(let flag) = value else { throw wrongType(key, expected: "a boolean", got: value) }
        return flag
    }

    /// An integer: a literal whose value is whole (`3`, `3.0`, `3e0`) and fits `Int`.
    public func int(_ key: String) throws(JSONFieldError) -> Int? {
        guard let value = value(key) else { return nil }
        guard case .number(let text) = value else { throw wrongType(key, expected: "an integer", got: value) }
        if let exact = Int(text) { return exact }
        guard let double = Double(text), double.rounded() == double else {
            throw JSONFieldError("field '\(name(key))' must be a whole number, got \(text)")
        }
        guard double >= -9.2e18 && double <= 9.2e18 else { throw JSONFieldError("field '\(name(key))' is out of range: \(text)") }
        return Int(double)
    }

    /// An unsigned 64-bit integer (seeds), written as a plain integer literal.
    public func uint64(_ key: String) throws(JSONFieldError) -> UInt64? {
        guard let value = value(key) else { return nil }
        guard case .number(let text) = value else { throw wrongType(key, expected: "an integer", got: value) }
        if let exact = UInt64(text) { return exact }
        if text.hasPrefix("-") { throw JSONFieldError("field '\(name(key))' must not be negative, got \(text)") }
        throw JSONFieldError("field '\(name(key))' must be a whole number from 0 to \(UInt64.max), got \(text)")
    }

    /// A number that must fit a 32-bit float: values too large for one, or too small to be told from 0, are
    /// refused rather than silently turned into infinity or 0.
    public func float(_ key: String) throws(JSONFieldError) -> Float? {
        guard let value = value(key) else { return nil }
        guard case .number(let text) = value else { throw wrongType(key, expected: "a number", got: value) }
        guard let double = Double(text), double.isFinite else {
            throw JSONFieldError("field '\(name(key))' is out of range: \(text) does not fit a 32-bit float")
        }
        let single = Float(double)
        guard single.isFinite else { throw JSONFieldError("field '\(name(key))' is out of range: \(text) does not fit a 32-bit float") }
        guard single != 0 || double == 0 else {
            throw JSONFieldError("field '\(name(key))' is out of range: \(text) is too small for a 32-bit float (write 0)")
        }
        return single
    }

    public func array(_ key: String) throws(JSONFieldError) -> [JSONValue]? {
        guard let value = value(key) else { return nil }
        guard case .array(let elements) = value else { throw wrongType(key, expected: "an array", got: value) }
        return elements
    }

    public func object(_ key: String) throws(JSONFieldError) -> JSONObjectReader? {
        guard let value = value(key) else { return nil }
        return try JSONObjectReader(value, path: name(key))
    }

    /// Refuses members outside `known` (formats where an unknown field is a mistake or an attack, not an extension).
    public func refuseUnknown(_ known: Set<String>) throws(JSONFieldError) {
        if let unknown = members.first(where: { !known.contains($0.key) }) {
            throw JSONFieldError("unknown field '\(name(unknown.key))'")
        }
    }
}
