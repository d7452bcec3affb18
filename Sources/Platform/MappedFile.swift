// A whole file mapped read-only into memory, unmapped when the last reference goes.
import Glibc

/// A read-only, private mapping of a regular file.
///
/// The mapping reflects the file as it is on disk: if another process truncates the file while it is mapped,
/// touching the lost pages raises SIGBUS. Outpost maps only files it owns (the store's model blobs), which are
/// written once and replaced by rename, never truncated in place.
///
/// Sendable because the mapping is read-only and lives until `deinit`.
public final class MappedFile: @unchecked Sendable {
    public let path: String
    /// The file's bytes; empty (and with a nil base address) for an empty file, which is not mapped at all.
    public let bytes: UnsafeRawBufferPointer

    public var count: Int { bytes.count }

    public init(path: String) throws(SystemError) {
        self.path = path
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { fd.close() }

        var info = stat()
        _ = try checked("fstat", path) { fstat(fd.rawValue, &info) }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw SystemError("mmap", path, errno: Errno(rawValue: EISDIR))
        default: throw SystemError("mmap", path, errno: Errno(rawValue: ENODEV))
        }
        // mmap rejects a length of 0, and an empty file has nothing to map anyway.
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd.rawValue, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SystemError("mmap", path, errno: .current)
        }
        bytes = UnsafeRawBufferPointer(start: address, count: size)
    }

    /// `count` zeroed bytes of anonymous memory, writable through `fill` until `makeReadOnly()`: what a decrypted
    /// model is served from. The pages are kept out of core dumps (MADV_DONTDUMP), so a crash does not write the
    /// model to disk. `path` names the content in messages.
    public init(anonymousBytes count: Int, path: String) throws(SystemError) {
        self.path = path
        guard count > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let address = mmap(nil, count, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let address, address != UnsafeMutableRawPointer(bitPattern: -1) else {
            throw SystemError("mmap", "\(count) bytes for \(path)", errno: .current)
        }
        _ = madvise(address, count, MADV_DONTDUMP)
        bytes = UnsafeRawBufferPointer(start: address, count: count)
    }

    /// Writes the anonymous memory (before `makeReadOnly`).
    public func fill<E: Error>(_ body: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        try body(UnsafeMutableRawBufferPointer(mutating: bytes))
    }

    /// Backs `range` of the anonymous memory with pages now, in one call rather than one fault per page
    /// (MADV_POPULATE_WRITE, Linux 5.14; on older kernels the pages simply fault in as they are written).
    /// Several threads may populate disjoint ranges at once.
    public func populate(_ range: Range<Int>) {
        guard let base = bytes.baseAddress, !range.isEmpty, range.upperBound <= bytes.count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = range.lowerBound / page * page
        _ = madvise(UnsafeMutableRawPointer(mutating: base) + start, range.upperBound - start, 23 /* MADV_POPULATE_WRITE */)
    }

    /// Ends writing: from here on a stray write faults instead of changing the model.
    public func makeReadOnly() {
        guard let base = bytes.baseAddress else { return }
        _ = mprotect(UnsafeMutableRawPointer(mutating: base), bytes.count, PROT_READ)
    }

    /// Asks the kernel to start reading the whole file in ahead of use (before walking every weight once);
    /// only advice, so a failure is ignored.
    public func adviseWillNeed() {
        guard let base = bytes.baseAddress else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base), bytes.count, MADV_WILLNEED)
    }

    deinit {
        if let base = bytes.baseAddress {
            munmap(UnsafeMutableRawPointer(mutating: base), bytes.count)
        }
    }
}
