/// One value from the configuration file on its way into a `Config`: typed readers whose errors name the key
/// (`server.max_connections must be ...`) and point at the value.
struct ConfigValue {
    let file: String
    /// The full dotted key, as messages name it.
    let name: String
    let value: TOMLValue
    /// Where the value starts.
    let position: TOMLPosition

    /// `requirement` completes the sentence that starts with the key's name.
    func error(_ requirement: String) -> TOMLError {
        TOMLError(file: file, position: position, message: "\(name) \(requirement)")
    }

    private func wrongType(_ expected: String) -> TOMLError {
        error("must be \(expected), found \(value.typeName)")
    }

    func string() throws(TOMLError) -> String {
        guard case .string(let text) = value else { throw wrongType("a string") }
        return text
    }

    func bool() throws(TOMLError) -> Bool {
        guard case .boolean(let flag) = value else { throw wrongType("a boolean") }
        return flag
    }

    /// An array of strings, each a plausible user or group name.
    func names() throws(TOMLError) -> [String] {
        guard case .array(let items) = value else { throw wrongType("an array of strings") }
        var names: [String] = []
        for item in items {
            guard case .string(let text) = item else { throw wrongType("an array of strings") }
            guard !text.isEmpty, text.utf8.count <= 64, !text.contains(":"), !text.contains("/") else {
                throw error("must hold user or group names, found \"\(text)\"")
            }
            names.append(text)
        }
        return names
    }

    func integer(in range: ClosedRange<Int64>) throws(TOMLError) -> Int64 {
        guard case .integer(let number) = value else { throw wrongType("an integer") }
        guard range.contains(number) else {
            throw error("must be between \(range.lowerBound) and \(range.upperBound), found \(number)")
        }
        return number
    }

    /// A duration, written as an integer or a float; above 0 (or from 0 when `zeroAllowed`) and at most `limit`.
    /// The limit also keeps out `inf` and `nan`, which no timer can take.
    func seconds(zeroAllowed: Bool, limit: Int) throws(TOMLError) -> Double {
        let seconds: Double
        switch value {
        case .integer(let number): seconds = Double(number)
        case .float(let number): seconds = number
        default: throw wrongType("a number")
        }
        let inRange = (zeroAllowed ? seconds >= 0 : seconds > 0) && seconds <= Double(limit)
        guard inRange else {
            let range = zeroAllowed ? "between 0 and \(limit)" : "greater than 0 and at most \(limit)"
            throw error("must be \(range), found \(value)")
        }
        return seconds
    }

    /// An absolute path whose bytes (NUL excluded, which paths cannot hold) number at most `maxBytes`.
    func absolutePath(maxBytes: Int) throws(TOMLError) -> String {
        let path = try string()
        guard path.hasPrefix("/") else { throw error("must be an absolute path, found \(value)") }
        guard !path.unicodeScalars.contains("\0") else { throw error("must not contain NUL, found \(value)") }
        guard path.utf8.count <= maxBytes else {
            throw error("must be at most \(maxBytes) bytes long, found \(path.utf8.count) bytes")
        }
        return path
    }

    /// Permission bits as chmod takes them: a string of octal digits (`"0660"`) or an integer (`0o660`).
    func permissions() throws(TOMLError) -> UInt32 {
        let bits: Int64
        switch value {
        case .integer(let number):
            bits = number
        case .string(let text):
            let digits = text.unicodeScalars
            guard !digits.isEmpty, digits.allSatisfy({ ("0"..."7").contains($0) }) else {
                throw error("must be octal digits like \"0660\", found \(value)")
            }
            // Clamped just past the limit, so any number of digits is read without overflow.
            bits = digits.reduce(0) { min($0 * 8 + Int64($1.value - 48), 0o1000) }
        default:
            throw wrongType("a string of octal digits or an integer")
        }
        guard (0...0o777).contains(bits) else {
            var found = value.description
            if case .integer(let number) = value, number >= 0 { found += " (0o\(String(number, radix: 8)))" }
            throw error("must be between 0 and 0o777, found \(found)")
        }
        return UInt32(bits)
    }

    /// One of an enumeration's raw values, spelled exactly.
    func choice<Choice: CaseIterable & RawRepresentable>(of _: Choice.Type) throws(TOMLError) -> Choice
    where Choice.RawValue == String {
        try named(Array(Choice.allCases), \.rawValue)
    }

    /// The one of `options` whose `name` is the string value.
    func named<Option>(_ options: [Option], _ name: (Option) -> String) throws(TOMLError) -> Option {
        let text = try string()
        if let option = options.first(where: { name($0) == text }) { return option }
        throw error("must be one of \(options.map(name).joined(separator: ", ")); found \(value)")
    }
}
