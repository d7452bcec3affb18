/// Builds the document's tables from headers and key/value pairs, enforcing TOML's rules on what may be
/// defined where. Tables live in an arena addressed by index while parsing, so that adding a key deep in the
/// tree does not copy the tables above it.
struct TOMLBuilder {
    /// How a table came to exist; it decides what may still add to it.
    enum Origin: Equatable {
        /// Only named on the way to another table (`a` in `[a.b]`), or the root: a header may still define it.
        case implicit
        /// Defined by its own `[header]`; defined once only.
        case header
        /// Created by a dotted key (`a` in `a.x = 1`) in the given section; only that section may add to it.
        case dotted(section: Int)
    }

    enum Slot {
        case value(TOMLValue, key: TOMLPosition, value: TOMLPosition)
        case table(Int, key: TOMLPosition)
    }

    struct Node {
        var origin: Origin
        var keys: [String] = []
        var slots: [String: Slot] = [:]
    }

    let file: String
    private var nodes = [Node(origin: .implicit)]
    /// The table the current section's pairs go into, and its path, for messages.
    private var current = 0
    private var currentPath: [String] = []
    /// Counts headers, so a dotted-key table knows whether it is still in the section that created it.
    private var section = 0

    init(file: String) {
        self.file = file
    }

    /// `[a.b.c]`: walks to (creating as needed) the table and makes it the current section.
    mutating func openTable(_ key: [TOMLKeyPart]) throws(TOMLError) {
        section += 1
        var node = 0
        var path: [String] = []
        for (i, part) in key.enumerated() {
            path.append(part.name)
            let isLast = i == key.count - 1
            switch nodes[node].slots[part.name] {
            case nil:
                node = try addTable(part, path: path, in: node, origin: isLast ? .header : .implicit)
            case .value(let value, let at, _):
                throw notATable(path, value, definedAt: at, at: part.position)
            case .table(let child, let at):
                if isLast {
                    guard nodes[child].origin == .implicit else {
                        throw error("table '\(TOMLKey.render(path))' is already defined at \(at)", at: part.position)
                    }
                    nodes[child].origin = .header
                    nodes[node].slots[part.name] = .table(child, key: part.position)
                }
                node = child
            }
        }
        current = node
        currentPath = path
    }

    /// `a.b.c = value` in the current section.
    mutating func define(_ key: [TOMLKeyPart], value: TOMLValue, at valuePosition: TOMLPosition) throws(TOMLError) {
        var node = current
        var path = currentPath
        for part in key.dropLast() {
            path.append(part.name)
            switch nodes[node].slots[part.name] {
            case nil:
                node = try addTable(part, path: path, in: node, origin: .dotted(section: section))
            case .value(let existing, let at, _):
                throw notATable(path, existing, definedAt: at, at: part.position)
            case .table(let child, let at):
                switch nodes[child].origin {
                case .dotted(let created) where created == section:
                    break
                case .implicit:
                    nodes[child].origin = .dotted(section: section)
                    nodes[node].slots[part.name] = .table(child, key: part.position)
                case .header, .dotted:
                    let name = TOMLKey.render(path)
                    throw error("table '\(name)' is already defined at \(at); dotted keys cannot add to it", at: part.position)
                }
                node = child
            }
        }
        let last = key[key.count - 1]
        path.append(last.name)
        switch nodes[node].slots[last.name] {
        case nil:
            nodes[node].keys.append(last.name)
            nodes[node].slots[last.name] = .value(value, key: last.position, value: valuePosition)
        case .value(_, let at, _):
            throw error("duplicate key '\(TOMLKey.render(path))' (first defined at \(at))", at: last.position)
        case .table(_, let at):
            throw error("key '\(TOMLKey.render(path))' is already defined as a table at \(at)", at: last.position)
        }
    }

    /// The finished document.
    func build() -> TOMLTable { table(0) }

    private func table(_ node: Int) -> TOMLTable {
        var result = TOMLTable()
        for key in nodes[node].keys {
            switch nodes[node].slots[key]! {
            case .value(let value, let keyPosition, let valuePosition):
                result.append(.init(key: key, value: value, keyPosition: keyPosition, valuePosition: valuePosition))
            case .table(let child, let keyPosition):
                result.append(.init(key: key, value: .table(table(child)), keyPosition: keyPosition, valuePosition: keyPosition))
            }
        }
        return result
    }

    private mutating func addTable(_ part: TOMLKeyPart, path: [String], in parent: Int, origin: Origin) throws(TOMLError) -> Int {
        guard path.count <= TOMLParser.maxDepth else {
            throw error("tables nested more than \(TOMLParser.maxDepth) deep", at: part.position)
        }
        nodes.append(Node(origin: origin))
        nodes[parent].keys.append(part.name)
        nodes[parent].slots[part.name] = .table(nodes.count - 1, key: part.position)
        return nodes.count - 1
    }

    private func notATable(_ path: [String], _ value: TOMLValue, definedAt: TOMLPosition, at: TOMLPosition) -> TOMLError {
        let name = TOMLKey.render(path)
        return error("key '\(name)' is already defined as \(value.typeNameWithArticle) at \(definedAt), so it cannot be a table", at: at)
    }

    private func error(_ message: String, at position: TOMLPosition) -> TOMLError {
        TOMLError(file: file, position: position, message: message)
    }
}
