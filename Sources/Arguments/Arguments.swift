// A small command-line parser shared by both executables: `--name value`, `--name=value`, flags, positionals.

public struct UsageError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public struct Arguments: Equatable {
    public private(set) var values: [String: [String]] = [:]
    public private(set) var flags: Set<String> = []
    public private(set) var positionals: [String] = []

    /// Parses `arguments` (without the program name). `valueOptions` take a value; `flagOptions` do not.
    /// Everything after `--` is positional.
    public init(_ arguments: [String], valueOptions: Set<String>, flagOptions: Set<String>) throws(UsageError) {
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || !argument.hasPrefix("--") || argument == "-" {
                if !onlyPositionals && argument.hasPrefix("-") && argument.count > 1 && argument != "-" {
                    if argument != "-h" { throw UsageError("unknown option \(argument)") }
                    flags.insert("help")
                    continue
                }
                positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            if valueOptions.contains(name) {
                if let inlineValue {
                    values[name, default: []].append(inlineValue)
                } else {
                    guard index < arguments.count else { throw UsageError("option --\(name) needs a value") }
                    // `--max-tokens --socket X` is a forgotten value, not a value spelled "--socket".
                    guard !arguments[index].hasPrefix("--") else {
                        throw UsageError("option --\(name) needs a value, got the option \(arguments[index]) (write --\(name)=VALUE for a value starting with --)")
                    }
                    values[name, default: []].append(arguments[index])
                    index += 1
                }
            } else if flagOptions.contains(name) {
                guard inlineValue == nil else { throw UsageError("option --\(name) takes no value") }
                flags.insert(name)
            } else {
                throw UsageError("unknown option --\(name)")
            }
        }
    }

    /// The last value given for `name`.
    public func value(_ name: String) -> String? { values[name]?.last }

    public func has(_ flag: String) -> Bool { flags.contains(flag) }

    public func double(_ name: String) throws(UsageError) -> Double? {
        guard let text = value(name) else { return nil }
        guard let number = Double(text), number.isFinite else { throw UsageError("--\(name) expects a number, got '\(text)'") }
        return number
    }

    public func integer(_ name: String) throws(UsageError) -> Int? {
        guard let text = value(name) else { return nil }
        guard let number = Int(text) else { throw UsageError("--\(name) expects an integer, got '\(text)'") }
        return number
    }
}
