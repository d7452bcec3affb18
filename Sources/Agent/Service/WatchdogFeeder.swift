// Feeds the systemd watchdog from the serving loop's ticks: if the loop hangs, the pings stop and systemd acts.
import Platform
import Systemd
import Synchronization

final class WatchdogFeeder: Sendable {
    private let notifier: Notifier
    /// Ping period in nanoseconds: half of WATCHDOG_USEC, as sd_watchdog_enabled(3) recommends.
    private let period: UInt64?
    private let lastPing = Atomic<UInt64>(0)

    init(notifier: Notifier) {
        self.notifier = notifier
        period = notifier.watchdogMicroseconds().map { $0 * 1000 / 2 }
    }

    /// How often the loop must tick for pings to keep to the period (at most an eighth of it late).
    var tickInterval: Double {
        guard let period else { return 1 }
        return min(1, Double(period) / 1e9 / 8)
    }

    func feedIfDue() {
        guard let period else { return }
        let now = Clock.monotonicNanoseconds()
        if now &- lastPing.load(ordering: .relaxed) >= period {
            lastPing.store(now, ordering: .relaxed)
            notifier.watchdog()
        }
    }
}
