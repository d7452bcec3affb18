// Output helpers for the executables: a line to stderr, and exit without unwinding.
import Glibc

public func printError(_ text: String) {
    try? FileDescriptor.standardError.writeAll(text + "\n")
}

public func exitProcess(_ status: Int32) -> Never {
    ProcessStats.exit(status)
}

/// Progress of long work on stderr: redrawn in place on a terminal, a line per quarter otherwise (logs stay short).
public final class ProgressLine {
    private let label: String
    private let terminal: Bool
    private var lastShown: Int

    public init(_ label: String) {
        self.label = label
        terminal = isatty(2) == 1
        lastShown = terminal ? -1 : 0
    }

    public func update(done: Int64, total: Int64) {
        let percent = total > 0 ? Int(done * 100 / total) : 100
        let step = terminal ? percent : percent / 25 * 25
        guard step != lastShown else { return }
        lastShown = step
        let text = "\(label): \(percent)% (\(done >> 20) of \(total >> 20) MiB)"
        if terminal {
            try? FileDescriptor.standardError.writeAll("\r" + text + (done >= total ? "\n" : ""))
        } else {
            printError(text)
        }
    }
}
