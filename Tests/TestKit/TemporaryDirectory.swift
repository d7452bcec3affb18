// A directory under the system's temporary directory that a test writes into and removes afterwards.
import Foundation

public struct TemporaryDirectory: Sendable {
    public let root: String

    /// Creates a fresh directory named `outpost-<prefix>-XXXXXX`.
    public init(prefix: String = "test") throws {
        var template = Array((NSTemporaryDirectory() + "outpost-\(prefix)-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        root = String(cString: made)
    }

    public func path(_ name: String) -> String { root + "/" + name }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    public func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Removes the directory and everything in it.
    public func remove() {
        try? FileManager.default.removeItem(atPath: root)
    }
}
