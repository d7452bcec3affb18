// Reading a password: from the terminal without echo, or as the first line of a piped standard input (as
// minisign does), so that scripts and tests can supply one.
import Glibc

public enum SecretInput {
    /// Whether standard input is a terminal.
    public static var isTerminal: Bool { isatty(0) == 1 }

    /// One line of standard input (without its newline), at most `limit` bytes. On a terminal, `prompt` goes to
    /// stderr and the typed characters are not echoed.
    public static func readLine(prompt: String, limit: Int = 1024) -> [UInt8]? {
        var saved = termios()
        let terminal = isTerminal && tcgetattr(0, &saved) == 0
        if terminal {
            try? FileDescriptor.standardError.writeAll(prompt)
            var quiet = saved
            quiet.c_lflag &= ~tcflag_t(ECHO)
            _ = tcsetattr(0, TCSAFLUSH, &quiet)
        }
        defer {
            if terminal {
                _ = tcsetattr(0, TCSAFLUSH, &saved)
                try? FileDescriptor.standardError.writeAll("\n")
            }
        }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count <= limit {
            let n = withUnsafeMutableBytes(of: &byte) { FileDescriptor.standardInput.read(into: $0) }
            guard case .success(let count) = n else { return nil }
            if count == 0 { return line.isEmpty ? nil : line }
            if byte == UInt8(ascii: "\n") { return line }
            line.append(byte)
        }
        return nil
    }
}
