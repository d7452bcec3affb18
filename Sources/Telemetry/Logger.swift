// The handle libraries log through. Cheap to copy; `with` makes a child carrying extra context fields.

import Platform

public struct Logger: Sendable {
    public let minimum: LogSeverity
    private let sink: any LogSink
    private let context: [LogField]
    private let clock: @Sendable () -> Double

    public init(minimum: LogSeverity, sink: any LogSink) {
        self.init(minimum: minimum, sink: sink, clock: Logger.wallClockSeconds)
    }

    /// `clock` returns seconds since the Unix epoch; tests pass a fixed one.
    public init(minimum: LogSeverity, sink: any LogSink, clock: @escaping @Sendable () -> Double) {
        self.minimum = minimum
        self.sink = sink
        self.context = []
        self.clock = clock
    }

    private init(copying other: Logger, context: [LogField]) {
        minimum = other.minimum
        sink = other.sink
        clock = other.clock
        self.context = context
    }

    public func isEnabled(_ severity: LogSeverity) -> Bool {
        severity >= minimum
    }

    /// Message and fields are autoclosures so a disabled level (debug in production) costs one comparison.
    public func log(
        _ severity: LogSeverity, _ message: @autoclosure () -> String, _ fields: @autoclosure () -> [LogField] = []
    ) {
        guard isEnabled(severity) else { return }
        let own = fields()
        sink.write(
            LogRecord(
                severity: severity, message: message(), fields: context.isEmpty ? own : context + own,
                timestamp: clock()))
    }

    public func debug(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [LogField] = []) {
        log(.debug, message(), fields())
    }

    public func info(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [LogField] = []) {
        log(.info, message(), fields())
    }

    public func notice(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [LogField] = []) {
        log(.notice, message(), fields())
    }

    public func warning(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [LogField] = []) {
        log(.warning, message(), fields())
    }

    public func error(_ message: @autoclosure () -> String, _ fields: @autoclosure () -> [LogField] = []) {
        log(.error, message(), fields())
    }

    /// A logger that adds `fields` to every record, after any context this one already carries.
    public func with(_ fields: [LogField]) -> Logger {
        Logger(copying: self, context: context + fields)
    }

    @Sendable private static func wallClockSeconds() -> Double {
        Clock.wallSeconds()
    }
}
