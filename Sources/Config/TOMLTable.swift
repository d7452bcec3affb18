/// A TOML table: its keys in the order the document first wrote them, each with where its key and value stand,
/// so that checks made after parsing can still point at the offending text.
public struct TOMLTable: Equatable, Sendable {
    public struct Entry: Equatable, Sendable {
        public let key: String
        public let value: TOMLValue
        /// Where the key was written; for `a.b = 1` or `[a.b]`, where `b` starts. A table that several headers
        /// or dotted keys pass through has the position of its own header or dotted key, else its first mention.
        public let keyPosition: TOMLPosition
        /// Where the value starts; for a table, the same as `keyPosition`.
        public let valuePosition: TOMLPosition

        public init(key: String, value: TOMLValue, keyPosition: TOMLPosition, valuePosition: TOMLPosition) {
            self.key = key
            self.value = value
            self.keyPosition = keyPosition
            self.valuePosition = valuePosition
        }
    }

    /// The keys in the order the document first wrote them.
    public private(set) var keys: [String] = []
    private var storage: [String: Entry] = [:]

    public init() {}

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// The entries in key order.
    public var entries: [Entry] { keys.map { storage[$0]! } }

    public subscript(key: String) -> TOMLValue? { storage[key]?.value }

    public func entry(_ key: String) -> Entry? { storage[key] }

    /// Where `key` was written.
    public func position(of key: String) -> TOMLPosition? { storage[key]?.keyPosition }

    /// Where the value of `key` starts.
    public func valuePosition(of key: String) -> TOMLPosition? { storage[key]?.valuePosition }

    /// Adds a key the table does not have yet; callers rule out duplicates first, as the parser does.
    public mutating func append(_ entry: Entry) {
        precondition(storage[entry.key] == nil, "duplicate TOML key \(entry.key)")
        keys.append(entry.key)
        storage[entry.key] = entry
    }

    /// Tables are equal when they hold the same keys with equal values: TOML tables are unordered, and where
    /// a value was written is not part of it.
    public static func == (lhs: TOMLTable, rhs: TOMLTable) -> Bool {
        lhs.count == rhs.count && lhs.storage.allSatisfy { key, entry in rhs.storage[key]?.value == entry.value }
    }
}
