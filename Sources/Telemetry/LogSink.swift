// Where log records go. The daemon picks a sink (stderr text, journald); libraries only see a `Logger`.
import Synchronization

public protocol LogSink: Sendable {
    /// Called on the logging thread; must be safe to call from many threads at once.
    func write(_ record: LogRecord)
}

/// Keeps every record in memory, for tests to assert on. Copies share the same records.
public struct CapturingLogSink: LogSink {
    private final class Storage: Sendable {
        let records = Mutex<[LogRecord]>([])
    }

    private let storage = Storage()

    public init() {}

    public func write(_ record: LogRecord) {
        storage.records.withLock { $0.append(record) }
    }

    /// Records written so far, oldest first.
    public var records: [LogRecord] {
        storage.records.withLock { $0 }
    }

    public func removeAll() {
        storage.records.withLock { $0.removeAll() }
    }
}
