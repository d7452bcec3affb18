// The agent's logger, replaceable on reload while handlers on other threads log through it.
import Synchronization

public final class LoggerBox: Sendable {
    private let logger: Mutex<Logger>

    public init(_ logger: Logger) {
        self.logger = Mutex(logger)
    }

    public var current: Logger { logger.withLock { $0 } }

    public func replace(_ new: Logger) {
        logger.withLock { $0 = new }
    }
}
