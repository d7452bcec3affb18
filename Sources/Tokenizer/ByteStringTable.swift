// An immutable-after-building hash index from byte strings to integers, looked up without allocating.
//
// Tokenizing asks "is this byte range a token?" once per candidate merge; with 262,144 Gemma tokens a Swift
// `[String: Int32]` would allocate a String per question. Here the keys live in one byte buffer and a lookup takes
// a pointer and a length into the caller's own text.

/// Byte strings (each with a small integer `tag` that is part of the key) mapped to `Int32` values.
///
/// Sendable because nothing changes after the builder is done: lookups only read.
final class ByteStringTable: @unchecked Sendable {
    private(set) var count = 0
    /// Every key's bytes, back to back; key `i` is `bytes[starts[i]..<starts[i + 1]]`.
    private let bytes: UnsafeMutableBufferPointer<UInt8>
    private let starts: UnsafeMutableBufferPointer<Int>
    private let tags: UnsafeMutableBufferPointer<Int32>
    private let values: UnsafeMutableBufferPointer<Int32>
    /// Open addressing with linear probing: entry index, or -1 for an empty slot. Size is a power of two at least
    /// twice the entry capacity, so probes stay short.
    private let slots: UnsafeMutableBufferPointer<Int32>
    private let mask: Int

    init(entryCapacity: Int, byteCapacity: Int) {
        precondition(entryCapacity >= 0 && entryCapacity < Int(Int32.max) / 2 && byteCapacity >= 0)
        bytes = .allocate(capacity: max(byteCapacity, 1))
        starts = .allocate(capacity: entryCapacity + 1)
        starts[0] = 0
        tags = .allocate(capacity: max(entryCapacity, 1))
        values = .allocate(capacity: max(entryCapacity, 1))
        var size = 16
        while size < 2 * entryCapacity { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: -1)
        mask = size - 1
    }

    deinit {
        bytes.deallocate()
        starts.deallocate()
        tags.deallocate()
        values.deallocate()
        slots.deallocate()
    }

    /// Adds `key` (with `tag`) → `value` unless an equal key is already there; returns that entry's value
    /// when it is, and nil when the key was added.
    func insert(_ key: UnsafeBufferPointer<UInt8>, tag: Int32 = 0, value: Int32) -> Int32? {
        let base = key.baseAddress ?? UnsafePointer(bytes.baseAddress!)
        var slot = Self.hash(base, key.count, tag) & mask
        while slots[slot] >= 0 {
            let entry = Int(slots[slot])
            if matches(entry, base, key.count, tag) { return values[entry] }
            slot = (slot + 1) & mask
        }
        precondition(count < tags.count && starts[count] + key.count <= bytes.count, "ByteStringTable capacity")
        let start = starts[count]
        if key.count > 0 {
            (bytes.baseAddress! + start).update(from: base, count: key.count)
        }
        starts[count + 1] = start + key.count
        tags[count] = tag
        values[count] = value
        slots[slot] = Int32(count)
        count += 1
        return nil
    }

    /// The bytes of entry `index` (entries are numbered in insertion order).
    func key(at index: Int) -> UnsafeBufferPointer<UInt8> {
        precondition(index >= 0 && index < count, "ByteStringTable index")
        return UnsafeBufferPointer(start: bytes.baseAddress! + starts[index], count: starts[index + 1] - starts[index])
    }

    /// The value stored for the `length` bytes at `key` with `tag`, or -1.
    @inline(__always)
    func value(_ key: UnsafePointer<UInt8>, _ length: Int, tag: Int32 = 0) -> Int32 {
        var slot = Self.hash(key, length, tag) & mask
        while true {
            let entry = Int(slots[slot])
            if entry < 0 { return -1 }
            if matches(entry, key, length, tag) { return values[entry] }
            slot = (slot + 1) & mask
        }
    }

    func value(_ key: [UInt8], tag: Int32 = 0) -> Int32 {
        key.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else {
                // An empty array may have no storage; any valid pointer does for a zero-length key.
                return withUnsafePointer(to: 0 as UInt8) { value($0, 0, tag: tag) }
            }
            return value(base, buffer.count, tag: tag)
        }
    }

    @inline(__always)
    private func matches(_ entry: Int, _ key: UnsafePointer<UInt8>, _ length: Int, _ tag: Int32) -> Bool {
        let start = starts[entry]
        guard starts[entry + 1] - start == length, tags[entry] == tag else { return false }
        let stored = bytes.baseAddress! + start
        for i in 0..<length where stored[i] != key[i] { return false }
        return true
    }

    /// FNV-1a over the bytes, then the tag, then a final avalanche so that linear probing sees spread-out slots.
    @inline(__always)
    private static func hash(_ key: UnsafePointer<UInt8>, _ length: Int, _ tag: Int32) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in 0..<length {
            h = (h ^ UInt64(key[i])) &* 0x0000_0100_0000_01b3
        }
        h = (h ^ UInt64(UInt32(bitPattern: tag))) &* 0x0000_0100_0000_01b3
        h ^= h >> 32
        h = h &* 0xd6e8_feb8_6659_fd93
        h ^= h >> 32
        return Int(truncatingIfNeeded: h)
    }
}
