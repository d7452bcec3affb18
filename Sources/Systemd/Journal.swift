// Structured log entries sent to journald with sd_journal_sendv.
import CSystemd
import Glibc
import Platform

public enum Journal {
    /// True when stderr is connected to the journal: `$JOURNAL_STREAM` names stderr's device and inode.
    public static func isStandardErrorJournal() -> Bool {
        guard let value = ProcessStats.environment("JOURNAL_STREAM") else { return false }
        let parts = value.split(separator: ":")
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return false }
        guard let actual = FileDescriptor.standardError.deviceAndInode() else { return false }
        return actual.device == device && actual.inode == inode
    }

    /// Sends one entry. Field names must be upper-case journald names (MESSAGE, PRIORITY, ...).
    /// Returns false when journald could not be reached.
    @discardableResult
    public static func send(_ fields: [(name: String, value: String)]) -> Bool {
        // One buffer for all fields, so every iovec points into storage that lives for the whole call.
        var buffer: [UInt8] = []
        var spans: [(offset: Int, count: Int)] = []
        for field in fields {
            let bytes = Array("\(field.name)=\(field.value)".utf8)
            spans.append((buffer.count, bytes.count))
            buffer.append(contentsOf: bytes)
        }
        return buffer.withUnsafeMutableBytes { raw -> Bool in
            let base = raw.baseAddress
            let vectors = spans.map { span in iovec(iov_base: base.map { $0 + span.offset }, iov_len: span.count) }
            return vectors.withUnsafeBufferPointer { sd_journal_sendv($0.baseAddress, Int32($0.count)) == 0 }
        }
    }
}
