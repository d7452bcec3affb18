// Output helpers for the executables (they may not call the C library themselves).
import Platform

public func printError(_ text: String) {
    try? FileDescriptor.standardError.writeAll(text + "\n")
}

public func exitProcess(_ status: Int32) -> Never {
    ProcessStats.exit(status)
}
