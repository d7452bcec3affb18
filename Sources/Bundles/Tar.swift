// POSIX ustar archives, the subset a bundle needs: regular files and directories. The reader is built for hostile
// archives: every header checksummed, names normalised and refused when they could land outside the archive's
// root (absolute, `..`), links, devices, FIFOs and extension headers refused, duplicates refused, every entry
// bounded by the file's real length. Nothing is ever extracted by path: callers read entries by offset.
import Platform

public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable { case file, directory }
    /// Normalised: no leading `./`, no trailing `/`.
    public let name: String
    public let kind: Kind
    /// Where the entry's content starts in the archive.
    public let offset: Int64
    public let size: Int64
}

public struct TarError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public enum Tar {
    static let block = 512
    public static let maxEntries = 4096

    /// Lists the entries of the archive in `fd` (`length` bytes).
    public static func entries(of fd: FileDescriptor, length: Int64) throws(TarError) -> [TarEntry] {
        var entries: [TarEntry] = []
        var names: Set<String> = []
        var position: Int64 = 0
        while true {
            guard position + Int64(block) <= length else {
                throw TarError("the archive ends inside a header at byte \(position) (no end-of-archive marker)")
            }
            let header: [UInt8]
            do {
                header = try fd.read(count: block, at: position)
            } catch {
                throw TarError("cannot read the archive: \(error)")
            }
            if header.allSatisfy({ $0 == 0 }) { return entries }
            guard entries.count < maxEntries else { throw TarError("the archive holds more than \(maxEntries) entries") }
            let entry = try parseHeader(header, at: position)
            guard entry.offset + entry.size <= length else {
                throw TarError("entry '\(entry.name)' declares \(entry.size) bytes but the archive ends before them")
            }
            position = entry.offset + (entry.size + Int64(block - 1)) / Int64(block) * Int64(block)
            // `./`, the archive's root, as `tar -C DIR -cf X .` writes it.
            if entry.name.isEmpty && entry.kind == .directory { continue }
            guard !entry.name.isEmpty else { throw TarError("an entry at byte \(entry.offset - Int64(block)) has an empty name") }
            guard names.insert(entry.name).inserted else { throw TarError("the archive holds '\(entry.name)' twice") }
            entries.append(entry)
        }
    }

    static func parseHeader(_ header: [UInt8], at position: Int64) throws(TarError) -> TarEntry {
        let stored = try octal(header[148..<156], what: "checksum", at: position)
        var unsignedSum: Int64 = 0
        var signedSum: Int64 = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? UInt8(ascii: " ") : byte
            unsignedSum += Int64(value)
            signedSum += Int64(Int8(bitPattern: value))
        }
        guard stored == unsignedSum || stored == signedSum else {
            throw TarError("the header at byte \(position) fails its checksum (damaged, or not a tar archive)")
        }
        let magic = Array(header[257..<263])
        let isUstar = magic == Array("ustar\0".utf8)
        guard isUstar || magic == Array("ustar ".utf8) else { throw TarError("the header at byte \(position) is not a ustar header") }
        let rawName = cString(header[0..<100])
        let prefix = isUstar ? cString(header[345..<500]) : []
        let fullName = prefix.isEmpty ? rawName : prefix + [UInt8(ascii: "/")] + rawName
        let typeFlag = header[156]
        let kind: TarEntry.Kind
        switch typeFlag {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"): kind = .file
        case UInt8(ascii: "5"): kind = .directory
        case UInt8(ascii: "1"): throw TarError("entry '\(display(fullName))' is a hard link; bundles hold only files and directories")
        case UInt8(ascii: "2"): throw TarError("entry '\(display(fullName))' is a symbolic link; bundles hold only files and directories")
        case UInt8(ascii: "3"), UInt8(ascii: "4"): throw TarError("entry '\(display(fullName))' is a device file; bundles hold only files and directories")
        case UInt8(ascii: "6"): throw TarError("entry '\(display(fullName))' is a FIFO; bundles hold only files and directories")
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            throw TarError("entry at byte \(position) is an extended header ('\(Character(Unicode.Scalar(typeFlag)))'); write bundles as plain ustar (tar --format=ustar)")
        default: throw TarError("entry '\(display(fullName))' has an unknown type '\(typeFlag)'")
        }
        let size = try sizeField(header[124..<136], at: position)
        guard kind == .file || size == 0 else { throw TarError("directory entry '\(display(fullName))' has a size") }
        let name = try normalise(fullName)
        return TarEntry(name: name, kind: kind, offset: position + Int64(block), size: size)
    }

    /// `./a/b/` → `a/b`; refuses absolute names, `..`, empty components and bytes that are not printable UTF-8.
    static func normalise(_ raw: [UInt8]) throws(TarError) -> String {
        guard let text = String(validating: raw, as: UTF8.self), !raw.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
            throw TarError("an entry's name is not printable UTF-8: '\(display(raw))'")
        }
        guard !text.hasPrefix("/") else { throw TarError("entry '\(text)' has an absolute path") }
        var components = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if components.last == "" { components.removeLast() }
        while components.first == "." { components.removeFirst() }
        guard !components.contains("..") else { throw TarError("entry '\(text)' climbs out of the archive ('..')") }
        guard !components.contains(""), !components.contains(".") else { throw TarError("entry '\(text)' has an empty or '.' path component") }
        return components.joined(separator: "/")
    }

    static func cString(_ field: ArraySlice<UInt8>) -> [UInt8] { Array(field.prefix { $0 != 0 }) }

    static func display(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix(120), as: UTF8.self).map { $0.isASCII && ($0.asciiValue! < 0x20 || $0.asciiValue! == 0x7f) ? "?" : String($0) }.joined()
    }

    static func octal(_ field: ArraySlice<UInt8>, what: String, at position: Int64) throws(TarError) -> Int64 {
        var value: Int64 = 0
        var digits = 0
        var ended = false
        for byte in field {
            if byte == 0 || byte == UInt8(ascii: " ") {
                if digits > 0 { ended = true }
                continue
            }
            guard !ended, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "7"), digits < 21 else {
                throw TarError("the \(what) field of the header at byte \(position) is not an octal number")
            }
            value = value * 8 + Int64(byte - UInt8(ascii: "0"))
            digits += 1
        }
        guard digits > 0 else { throw TarError("the \(what) field of the header at byte \(position) is empty") }
        return value
    }

    /// Octal, or GNU's base-256 (high bit of the first byte set) for sizes of 8 GiB and more.
    static func sizeField(_ field: ArraySlice<UInt8>, at position: Int64) throws(TarError) -> Int64 {
        guard let first = field.first, first & 0x80 != 0 else { return try octal(field, what: "size", at: position) }
        guard first == 0x80, field.dropFirst().prefix(3).allSatisfy({ $0 == 0 }) else {
            throw TarError("the size of the entry at byte \(position) is negative or beyond 2^63")
        }
        return field.dropFirst(4).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }

    // MARK: - Writing

    /// A ustar header for `name` (at most 100 bytes; bundles' names are shorter).
    static func header(name: String, kind: TarEntry.Kind, size: Int64, mode: UInt32, mtime: Int64) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: block)
        func put(_ bytes: [UInt8], at offset: Int) { for (i, b) in bytes.enumerated() { header[offset + i] = b } }
        func octalField(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            return Array((String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits).utf8) + [0]
        }
        let nameBytes = Array(name.utf8)
        precondition(nameBytes.count <= 100, "tar names in bundles are short")
        put(nameBytes, at: 0)
        put(octalField(Int64(mode), width: 8), at: 100)
        put(octalField(0, width: 8), at: 108)
        put(octalField(0, width: 8), at: 116)
        if size < 0o77777777777 {
            put(octalField(size, width: 12), at: 124)
        } else {
            header[124] = 0x80
            for i in 0..<8 { header[135 - i] = UInt8(truncatingIfNeeded: size >> (8 * Int64(i))) }
        }
        put(octalField(max(0, mtime), width: 12), at: 136)
        header[156] = kind == .file ? UInt8(ascii: "0") : UInt8(ascii: "5")
        put(Array("ustar\0".utf8), at: 257)
        put(Array("00".utf8), at: 263)
        put(Array("root".utf8), at: 265)
        put(Array("root".utf8), at: 297)
        put(Array(repeating: UInt8(ascii: " "), count: 8), at: 148)
        let sum = header.reduce(0) { $0 + Int($1) }
        put(octalField(Int64(sum), width: 7) + [UInt8(ascii: " ")], at: 148)
        return header
    }

    static func padding(for size: Int64) -> Int { Int((Int64(block) - size % Int64(block)) % Int64(block)) }
}

/// Writes a ustar archive to a regular file, front to back. A file whose name is known only after its content
/// (a blob named by its digest) is written with a provisional header that `finishFile` rewrites in place.
public final class TarWriter {
    let fd: FileDescriptor
    let mtime: Int64
    public private(set) var position: Int64 = 0
    private var openFile: (headerAt: Int64, size: Int64, written: Int64)?

    public init(fd: FileDescriptor, mtime: Int64) {
        self.fd = fd
        self.mtime = mtime
    }

    public func addDirectory(_ name: String) throws(SystemError) {
        try fd.writeAll(Tar.header(name: name + "/", kind: .directory, size: 0, mode: 0o755, mtime: mtime))
        position += Int64(Tar.block)
    }

    public func addFile(_ name: String, _ bytes: [UInt8]) throws(SystemError) {
        try beginFile(size: Int64(bytes.count), name: name)
        try write(bytes)
        try finishFile(name: name)
    }

    /// Starts a file of `size` bytes whose content follows through `write`.
    public func beginFile(size: Int64, name: String = "partial") throws(SystemError) {
        precondition(openFile == nil, "one file at a time")
        openFile = (position, size, 0)
        try fd.writeAll(Tar.header(name: name, kind: .file, size: size, mode: 0o644, mtime: mtime))
        position += Int64(Tar.block)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws(SystemError) {
        guard var file = openFile else { preconditionFailure("write outside a file") }
        precondition(file.written + Int64(bytes.count) <= file.size, "more bytes than the header declares")
        var done = 0
        while done < bytes.count {
            switch fd.write(UnsafeRawBufferPointer(rebasing: bytes[done...])) {
            case .success(let n): done += n
            case .failure(let error): throw SystemError("write", errno: error)
            }
        }
        file.written += Int64(bytes.count)
        position += Int64(bytes.count)
        openFile = file
    }

    public func write(_ bytes: [UInt8]) throws(SystemError) {
        var failure: SystemError?
        bytes.withUnsafeBytes { raw in
            do throws(SystemError) { try write(raw) } catch { failure = error }
        }
        if let failure { throw failure }
    }

    /// Pads the open file to a whole block and writes its header again under its final `name`.
    public func finishFile(name: String) throws(SystemError) {
        guard let file = openFile else { preconditionFailure("no open file") }
        precondition(file.written == file.size, "fewer bytes than the header declares")
        openFile = nil
        try fd.writeAll([UInt8](repeating: 0, count: Tar.padding(for: file.size)))
        position += Int64(Tar.padding(for: file.size))
        try fd.writeAll(Tar.header(name: name, kind: .file, size: file.size, mode: 0o644, mtime: mtime), at: file.headerAt)
    }

    /// The end-of-archive marker: two zero blocks.
    public func finish() throws(SystemError) {
        try fd.writeAll([UInt8](repeating: 0, count: 2 * Tar.block))
        position += Int64(2 * Tar.block)
    }
}
