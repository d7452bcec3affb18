// Facts about this process that metrics and status report.
import Glibc

public enum ProcessStats {
    public static var pid: Int32 { getpid() }
    public static var uid: UInt32 { getuid() }

    /// Resident set size in bytes, from /proc/self/statm (second field, in pages).
    public static func residentMemoryBytes() -> Int {
        guard let text = try? readSmallFile("/proc/self/statm") else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// Peak resident set size in bytes (VmHWM in /proc/self/status).
    public static func peakResidentMemoryBytes() -> Int {
        guard let text = try? readSmallFile("/proc/self/status") else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmHWM:") {
            let number = line.dropFirst(6).split(whereSeparator: { $0 == " " || $0 == "\t" }).first.flatMap { Int($0) } ?? 0
            return number * 1024
        }
        return 0
    }

    /// User plus system CPU time this process has used, in seconds (getrusage).
    public static func cpuSeconds() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return 0 }
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Path of the executable of process `pid` (for audit records); nil when it cannot be read.
    public static func executablePath(of pid: Int32) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/\(pid)/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public static func readSmallFile(_ path: String, limit: Int = 1 << 20) throws(SystemError) -> String {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { fd.close() }
        return String(decoding: try fd.readAll(limit: limit), as: UTF8.self)
    }

    public static func environment(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }

    public static func unsetEnvironment(_ name: String) {
        unsetenv(name)
    }

    /// Exits immediately with `status`, flushing nothing (for fatal start-up errors after output is written).
    public static func exit(_ status: Int32) -> Never {
        Glibc.exit(status)
    }
}

public enum SystemInfo {
    /// CPUs this process may run on.
    public static var cpuCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Physical memory in bytes.
    public static var physicalMemory: Int {
        Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// This machine's host name ("unknown" when it cannot be read).
    public static var hostName: String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "unknown" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
