// A read position over untrusted bytes: every read checks what remains first, so no length in the file
// can move it outside the buffer.

struct ByteCursor {
    let bytes: UnsafeRawBufferPointer
    /// Absolute position in `bytes`; always within 0...bytes.count.
    private(set) var offset: Int = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }

    /// Reads a little-endian integer. `field` is only evaluated when the read fails.
    @inline(__always)
    mutating func read<T: FixedWidthInteger>(_: T.Type, _ field: @autoclosure () -> String) throws(GGUFError) -> T {
        let size = MemoryLayout<T>.size
        guard size <= remaining else { throw truncated(field(), needing: size) }
        let value = bytes.loadUnaligned(fromByteOffset: offset, as: T.self)
        offset += size
        return T(littleEndian: value)
    }

    /// Takes the next `count` bytes as a view into the buffer.
    mutating func take(_ count: Int, _ field: @autoclosure () -> String) throws(GGUFError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw truncated(field(), needing: count) }
        let view = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return view
    }

    /// Reads a u64 byte length, checks it against `limit` and the bytes that remain, and returns the bytes.
    mutating func lengthPrefixed(_ field: @autoclosure () -> String, limit: Int) throws(GGUFError) -> UnsafeRawBufferPointer {
        let start = offset
        let length = try read(UInt64.self, field())
        guard length <= UInt64(limit) else {
            throw GGUFError(field: field(), offset: start, message: "length \(length) exceeds the limit of \(limit) bytes")
        }
        let count = Int(length)
        guard count <= remaining else {
            throw GGUFError(
                field: field(), offset: start,
                message: "length \(count) runs past the end of the file (\(remaining) bytes remain)")
        }
        let view = UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
        offset += count
        return view
    }

    /// Checks that `count` items of at least `minimumSize` bytes each could still fit, before anything is allocated
    /// for them. The product is overflow-checked.
    func requireRoom(forCount count: Int, minimumSize: Int, _ field: @autoclosure () -> String, at start: Int) throws(GGUFError) {
        let (needed, overflow) = count.multipliedReportingOverflow(by: minimumSize)
        guard !overflow, needed <= remaining else {
            let need = overflow ? "more than \(Int.max)" : "at least \(needed)"
            throw GGUFError(
                field: field(), offset: start,
                message: "count \(count) needs \(need) bytes but only \(remaining) remain")
        }
    }

    func truncated(_ field: String, needing count: Int) -> GGUFError {
        GGUFError(field: field, offset: offset, message: "needs \(count) bytes but only \(remaining) remain (file truncated?)")
    }
}
