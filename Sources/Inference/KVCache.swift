// Keys and values of every layer for the positions seen so far, in fp16 (as llama.cpp stores them).

public final class KVCache {
    public let layers: Int
    public let capacity: Int
    /// Values per position per layer: kv heads × head dimension.
    public let width: Int
    /// [layer][position][width] fp16 bits.
    let keys: UnsafeMutablePointer<UInt16>
    let values: UnsafeMutablePointer<UInt16>
    /// Positions filled.
    public internal(set) var count = 0

    init(layers: Int, capacity: Int, width: Int) {
        self.layers = layers
        self.capacity = capacity
        self.width = width
        keys = .allocate(capacity: layers * capacity * width)
        values = .allocate(capacity: layers * capacity * width)
    }

    deinit {
        keys.deallocate()
        values.deallocate()
    }

    public var byteCount: Int { Self.byteCount(layers: layers, capacity: capacity, width: width) }

    /// Bytes of keys and values (fp16) a cache of this shape holds.
    static func byteCount(layers: Int, capacity: Int, width: Int) -> Int { 2 * 2 * layers * capacity * width }

    @inline(__always) func key(layer: Int, position: Int) -> UnsafeMutablePointer<UInt16> {
        keys + (layer * capacity + position) * width
    }

    @inline(__always) func value(layer: Int, position: Int) -> UnsafeMutablePointer<UInt16> {
        values + (layer * capacity + position) * width
    }

    /// Forgets positions from `position` on (a shorter shared prefix is kept).
    public func truncate(to position: Int) {
        count = min(count, max(0, position))
    }
}
