// sd_notify: telling the service manager what we are doing. Every call is a no-op without $NOTIFY_SOCKET.
import CSystemd
import Platform

public struct Notifier: Sendable {
    public init() {}

    /// True when a service manager listens for notifications.
    public var isEnabled: Bool { ProcessStats.environment("NOTIFY_SOCKET") != nil }

    /// Sends one notification (newline-separated assignments).
    public func send(_ state: String) {
        _ = sd_notify(0, state)
    }

    public func ready(status: String) {
        send("READY=1\nSTATUS=\(status)")
    }

    public func status(_ text: String) {
        send("STATUS=\(text)")
    }

    /// Reload protocol (systemd 253 Type=notify-reload and older Type=notify alike): RELOADING=1 with the
    /// monotonic time, then `ready(status:)` when done.
    public func reloading() {
        send("RELOADING=1\nMONOTONIC_USEC=\(Clock.monotonicNanoseconds() / 1000)\nSTATUS=Reloading configuration")
    }

    public func stopping(status: String) {
        send("STOPPING=1\nSTATUS=\(status)")
    }

    public func watchdog() {
        send("WATCHDOG=1")
    }

    /// The watchdog period the manager expects, in microseconds; nil when no watchdog is set for this process.
    public func watchdogMicroseconds() -> UInt64? {
        var usec: UInt64 = 0
        guard sd_watchdog_enabled(0, &usec) > 0, usec > 0 else { return nil }
        return usec
    }
}
