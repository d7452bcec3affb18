// Replacing a file so that a crash leaves either the old or the new content, never a mix.
import Glibc

public enum AtomicFile {
    /// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over `path`, then fsyncs the directory.
    public static func write(_ bytes: [UInt8], to path: String, mode: UInt32 = 0o644) throws(SystemError) {
        let directory = directoryName(of: path)
        let temporary = "\(path).tmp.\(getpid())"
        let fd = try FileDescriptor.open(temporary, [.writeOnly, .create, .truncate, .exclusive], mode: mode)
        do {
            try fd.writeAll(bytes)
            try fd.sync()
            fd.close()
            _ = try checked("rename", path) { rename(temporary, path) }
        } catch {
            fd.close()
            unlink(temporary)
            throw error
        }
        let dir = try FileDescriptor.open(directory, [.directory])
        defer { dir.close() }
        try dir.sync()
    }

    /// Creates `path` and its parents with `mode` where missing.
    public static func makeDirectories(_ path: String, mode: UInt32 = 0o750) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            if mkdir(current, mode_t(mode)) != 0 && errno != EEXIST {
                throw SystemError("mkdir", current, errno: .current)
            }
        }
    }

    static func directoryName(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let head = path[..<slash]
        return head.isEmpty ? "/" : String(head)
    }
}
