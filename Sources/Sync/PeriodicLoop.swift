// Work repeated for as long as the agent runs (checking a release channel, exporting telemetry), on a queue of
// its own: at an interval with jitter (a fleet does not knock all at once), after a failure sooner but with
// exponential backoff (5 s, doubling, at most the interval), and never sooner than a server asked (Retry-After).
import Dispatch
import Synchronization

final class PeriodicLoop: Sendable {
    let label: String
    let intervalSeconds: Double
    private let wake = DispatchSemaphore(value: 0)
    private let stopping = Atomic<Bool>(false)

    init(label: String, intervalSeconds: Double) {
        self.label = label
        self.intervalSeconds = intervalSeconds
    }

    /// Runs `round` until `stop()`: it returns nil when it went well, else the seconds the server asked to wait
    /// (0 when it did not say). `scheduled` hears the delay chosen after each round and whether it failed.
    func start(round: @escaping @Sendable () -> Double?, scheduled: @escaping @Sendable (Double, Bool) -> Void = { _, _ in }) {
        DispatchQueue(label: label).async { [self] in run(round, scheduled) }
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        wake.signal()
    }

    /// Runs the next round now.
    func now() { wake.signal() }

    private func run(_ round: @Sendable () -> Double?, _ scheduled: @Sendable (Double, Bool) -> Void) {
        var failures = 0
        while !stopping.load(ordering: .relaxed) {
            let asked = round()
            failures = asked == nil ? 0 : failures + 1
            var delay = intervalSeconds * Double.random(in: 0.9...1.1)
            if let asked {
                delay = min(delay, 5 * Double(1 << min(failures - 1, 10)) * Double.random(in: 0.8...1.2))
                delay = max(delay, asked)
            }
            scheduled(delay, asked != nil)
            _ = wake.wait(timeout: .now() + delay)
        }
    }
}
