// The store's file format: a plaintext of known size encrypted with XChaCha20-Poly1305 in chunks.
//
//   header (72 bytes): "OUTPOSTS" | format 1 (u32 LE) | chunk size (u32 LE) | plaintext size (u64 LE) |
//                      nonce prefix (16 random bytes) | identity (32 bytes: what this file is, e.g. a blob's name)
//   chunk i:           ciphertext of plaintext[i*chunk ..< min((i+1)*chunk, size)] | tag (16)
//   nonce of chunk i:  nonce prefix | i (u64 LE)
//   additional data:   header | i (u64 LE) | 1 if i is the last chunk else 0
//
// Every chunk is bound to its file (identity and random prefix), its place (index) and to whether it ends the
// file, so chunks cannot be reordered, dropped, truncated or moved between files without failing authentication;
// the file's length must be exactly what the header implies. An empty plaintext is one empty, tagged chunk.
import Dispatch
import Platform
import Sodium
import Synchronization

public enum SealedFile {
    static let magic = Array("OUTPOSTS".utf8)
    static let formatVersion: UInt32 = 1
    public static let headerBytes = 72
    public static let defaultChunkBytes = 1 << 20
    static let chunkRange = 4096...(16 << 20)
    public static let maxPlaintextBytes: Int64 = 1 << 42

    struct Header: Equatable, Sendable {
        var chunkBytes: Int
        var plaintextBytes: Int64
        var noncePrefix: [UInt8]
        var identity: [UInt8]

        var bytes: [UInt8] {
            func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }
            return magic + le(formatVersion) + le(UInt32(chunkBytes)) + le(UInt64(plaintextBytes)) + noncePrefix + identity
        }

        var chunkCount: Int64 { max(1, (plaintextBytes + Int64(chunkBytes) - 1) / Int64(chunkBytes)) }
        var fileBytes: Int64 { Int64(headerBytes) + plaintextBytes + chunkCount * Int64(XChaCha20Poly1305.tagBytes) }

        init(chunkBytes: Int, plaintextBytes: Int64, noncePrefix: [UInt8], identity: [UInt8]) {
            self.chunkBytes = chunkBytes
            self.plaintextBytes = plaintextBytes
            self.noncePrefix = noncePrefix
            self.identity = identity
        }

        init(parsing bytes: [UInt8], what: String) throws(StoreError) {
            guard bytes.count == headerBytes, Array(bytes[0..<8]) == magic else { throw StoreError("\(what) is not a store file (bad magic)") }
            func le(_ range: Range<Int>) -> UInt64 { bytes[range].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
            guard le(8..<12) == UInt64(formatVersion) else { throw StoreError("\(what) has store format \(le(8..<12)), expected \(formatVersion)") }
            let chunk = Int(le(12..<16))
            guard chunkRange.contains(chunk) else { throw StoreError("\(what) declares chunks of \(chunk) bytes") }
            let size = le(16..<24)
            guard size <= UInt64(maxPlaintextBytes) else { throw StoreError("\(what) declares \(size) bytes") }
            self.init(chunkBytes: chunk, plaintextBytes: Int64(size), noncePrefix: Array(bytes[24..<40]), identity: Array(bytes[40..<72]))
        }

        func nonce(_ index: Int64) -> [UInt8] { noncePrefix + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(index) >> (8 * $0)) } }

        func additionalData(_ index: Int64) -> [UInt8] {
            bytes + (0..<8).map { UInt8(truncatingIfNeeded: UInt64(index) >> (8 * $0)) } + [index == chunkCount - 1 ? 1 : 0]
        }

        func plaintextRange(_ index: Int64) -> Range<Int64> {
            let start = index * Int64(chunkBytes)
            return start..<min(start + Int64(chunkBytes), plaintextBytes)
        }

        func fileOffset(_ index: Int64) -> Int64 { Int64(headerBytes) + index * Int64(chunkBytes + XChaCha20Poly1305.tagBytes) }
    }
}

/// Writes a sealed file front to back from a stream of plaintext whose total size is known in advance.
public final class SealedWriter {
    let fd: FileDescriptor
    let path: String
    let header: SealedFile.Header
    let key: SecureBytes
    private var chunk: UnsafeMutableRawBufferPointer
    private var sealed: UnsafeMutableRawBufferPointer
    private var filled = 0
    private var index: Int64 = 0
    private var written: Int64 = 0

    /// Creates `path` (which must not exist) for `plaintextBytes` bytes identified by `identity` (32 bytes).
    public init(path: String, plaintextBytes: Int64, identity: [UInt8], key: SecureBytes,
                chunkBytes: Int = SealedFile.defaultChunkBytes) throws(StoreError) {
        precondition(identity.count == 32 && SealedFile.chunkRange.contains(chunkBytes), "a 32-byte identity and a sane chunk size")
        guard (0...SealedFile.maxPlaintextBytes).contains(plaintextBytes) else { throw StoreError("\(plaintextBytes) bytes cannot be stored") }
        let prefix: [UInt8]
        do {
            prefix = try Sodium.randomBytes(16)
        } catch {
            throw StoreError("\(error)")
        }
        header = SealedFile.Header(chunkBytes: chunkBytes, plaintextBytes: plaintextBytes, noncePrefix: prefix, identity: identity)
        self.key = key
        self.path = path
        do {
            fd = try FileDescriptor.open(path, [.writeOnly, .create, .exclusive, .noFollow], mode: 0o600)
        } catch {
            throw StoreError("cannot create \(path): \(error)")
        }
        chunk = .allocate(byteCount: chunkBytes, alignment: 64)
        sealed = .allocate(byteCount: chunkBytes + XChaCha20Poly1305.tagBytes, alignment: 64)
        do {
            try fd.writeAll(header.bytes)
        } catch {
            close()
            throw StoreError("cannot write \(path): \(error)")
        }
    }

    deinit { close() }

    private func close() {
        guard chunk.count > 0 else { return }
        fd.close()
        chunk.initializeMemory(as: UInt8.self, repeating: 0)
        chunk.deallocate()
        sealed.deallocate()
        chunk = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        guard written + Int64(bytes.count) <= header.plaintextBytes else {
            throw StoreError("more than the \(header.plaintextBytes) bytes declared for \(path)")
        }
        var offset = 0
        while offset < bytes.count {
            let take = min(bytes.count - offset, chunk.count - filled)
            UnsafeMutableRawBufferPointer(rebasing: chunk[filled..<(filled + take)]).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + take)]))
            filled += take
            offset += take
            written += Int64(take)
            if filled == chunk.count && written < header.plaintextBytes { try sealChunk() }
        }
    }

    public func write(_ bytes: [UInt8]) throws(StoreError) {
        var failure: StoreError?
        bytes.withUnsafeBytes { raw in
            do throws(StoreError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    private func sealChunk() throws(StoreError) {
        let ad = header.additionalData(index)
        let nonce = header.nonce(index)
        let output = UnsafeMutableRawBufferPointer(rebasing: sealed[0..<(filled + XChaCha20Poly1305.tagBytes)])
        var sealFailure: SodiumError?
        let plaintext = UnsafeRawBufferPointer(rebasing: chunk[0..<filled])
        ad.withUnsafeBytes { a in
            nonce.withUnsafeBytes { n in
                do throws(SodiumError) {
                    try XChaCha20Poly1305.seal(plaintext, into: output, additionalData: a, nonce: n, key: key)
                } catch {
                    sealFailure = error
                }
            }
        }
        if let sealFailure { throw StoreError("cannot encrypt \(path): \(sealFailure)") }
        do {
            try fd.writeAll(UnsafeRawBufferPointer(output))
        } catch {
            throw StoreError("cannot write \(path): \(error)")
        }
        index += 1
        filled = 0
    }

    /// Seals the last chunk and makes the file durable (fsync). The caller renames it into place.
    public func finish() throws(StoreError) {
        guard written == header.plaintextBytes else {
            throw StoreError("\(path): \(written) bytes written of the \(header.plaintextBytes) declared")
        }
        try sealChunk()
        precondition(index == header.chunkCount, "chunk count matches the header")
        do {
            try fd.sync()
        } catch {
            throw StoreError("cannot write \(path): \(error)")
        }
        close()
    }
}

/// Reads a sealed file back, checking every chunk.
public struct SealedReader: Sendable {
    let path: String
    let header: SealedFile.Header

    public var plaintextBytes: Int64 { header.plaintextBytes }

    /// Opens `path`, whose identity must be `identity`.
    public init(path: String, identity: [UInt8]) throws(StoreError) {
        self.path = path
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, [.noFollow])
        } catch {
            throw StoreError("cannot open \(path): \(error)")
        }
        defer { fd.close() }
        do {
            let size = try fd.status().size
            guard size >= Int64(SealedFile.headerBytes) else { throw StoreError("\(path) is cut short (\(size) bytes)") }
            header = try SealedFile.Header(parsing: try fd.read(count: SealedFile.headerBytes, at: 0), what: path)
            guard header.identity == identity else { throw StoreError("\(path) holds another file's content (identity mismatch)") }
            guard size == header.fileBytes else {
                throw StoreError("\(path) is \(size) bytes where its header implies \(header.fileBytes) (cut short or extended)")
            }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError("cannot read \(path): \(error)")
        }
    }

    /// Decrypts the whole file into `output` (`plaintextBytes` long), chunks shared among `threads` threads. The
    /// file is mapped, so the ciphertext is read straight from the page cache without a copy; `prepare` is called
    /// with each chunk's plaintext range before it is written (to populate fresh memory in one call).
    public func decrypt(into output: UnsafeMutableRawBufferPointer, key: SecureBytes, threads: Int,
                        prepare: @Sendable (Range<Int>) -> Void = { _ in }) throws(StoreError) {
        precondition(Int64(output.count) == header.plaintextBytes, "output of the plaintext's size")
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw StoreError("cannot open \(path): \(error)")
        }
        guard Int64(file.count) == header.fileBytes else {
            throw StoreError("\(path) is \(file.count) bytes where its header implies \(header.fileBytes) (changed while open)")
        }
        file.adviseWillNeed()
        let header = self.header
        let chunks = header.chunkCount
        let workers = max(1, min(threads, Int(chunks)))
        let failures = FailureBox()
        let base = UInt(bitPattern: output.baseAddress)
        let source = UInt(bitPattern: file.bytes.baseAddress)
        let path = self.path
        withExtendedLifetime(file) {
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var index = Int64(worker)
                while index < chunks && !failures.failed {
                    let range = header.plaintextRange(index)
                    prepare(Int(range.lowerBound)..<Int(range.upperBound))
                    let sealed = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: source)! + Int(header.fileOffset(index)),
                                                        count: Int(range.count) + XChaCha20Poly1305.tagBytes)
                    let target = UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: base).map { $0 + Int(range.lowerBound) },
                                                               count: Int(range.count))
                    let ad = header.additionalData(index)
                    let nonce = header.nonce(index)
                    let ok = ad.withUnsafeBytes { a in
                        nonce.withUnsafeBytes { n in XChaCha20Poly1305.open(sealed, into: target, additionalData: a, nonce: n, key: key) }
                    }
                    if !ok {
                        failures.record(index, "\(path): chunk \(index) of \(chunks) fails authentication (damaged or altered, or another store key)")
                        return
                    }
                    index += Int64(workers)
                }
            }
        }
        if let message = failures.first { throw StoreError(message) }
    }

    /// The whole plaintext of a small file.
    public func readAll(key: SecureBytes, limit: Int) throws(StoreError) -> [UInt8] {
        guard header.plaintextBytes <= Int64(limit) else { throw StoreError("\(path) holds \(header.plaintextBytes) bytes, more than \(limit)") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, Int(header.plaintextBytes)), alignment: 16)
        defer { buffer.deallocate() }
        let target = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(header.plaintextBytes)])
        try decrypt(into: target, key: key, threads: 1)
        return [UInt8](target)
    }
}

/// The first failure among threads (by chunk index, so the message does not depend on scheduling).
final class FailureBox: Sendable {
    private let entries = Mutex<[(Int64, String)]>([])

    var failed: Bool { entries.withLock { !$0.isEmpty } }
    var first: String? { entries.withLock { $0.min(by: { $0.0 < $1.0 })?.1 } }

    func record(_ index: Int64, _ message: String) { entries.withLock { $0.append((index, message)) } }
}
