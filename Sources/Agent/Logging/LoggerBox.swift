// The agent's logger, replaceable on reload while handlers on other threads log through it.
import Synchronization
import Telemetry

final class LoggerBox: Sendable {
    private let logger: Mutex<Logger>

    init(_ logger: Logger) {
        self.logger = Mutex(logger)
    }

    var current: Logger { logger.withLock { $0 } }

    func replace(_ new: Logger) {
        logger.withLock { $0 = new }
    }
}
