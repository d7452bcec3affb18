// Output helpers for the executables: a line to stderr, and exit without unwinding.

public func printError(_ text: String) {
    try? FileDescriptor.standardError.writeAll(text + "\n")
}

public func exitProcess(_ status: Int32) -> Never {
    ProcessStats.exit(status)
}
