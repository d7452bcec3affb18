// Buffers a forward pass works in, allocated once per context and reused for every batch.
import CKernels

public final class ForwardScratch {
    public struct Sizes: Equatable, Sendable {
        /// Floats per buffer.
        public var residual: Int
        public var normed: Int
        public var query: Int
        public var key: Int
        public var value: Int
        public var attention: Int
        public var projected: Int
        public var gate: Int
        public var up: Int
        /// Query heads per token (attention work items per batch row).
        public var heads: Int

        public init(residual: Int, normed: Int, query: Int, key: Int, value: Int, attention: Int, projected: Int,
                    gate: Int, up: Int, heads: Int) {
            self.residual = residual
            self.normed = normed
            self.query = query
            self.key = key
            self.value = value
            self.attention = attention
            self.projected = projected
            self.gate = gate
            self.up = up
            self.heads = heads
        }

        var total: Int { residual + normed + query + key + value + attention + projected + gate + up }
    }

    public let batchCapacity: Int
    let storage: UnsafeMutablePointer<Float>
    let residual, normed, query, key, value, attention, projected, gate, up: UnsafeMutablePointer<Float>
    /// [batchCapacity * heads] attention work items.
    let attendItems: UnsafeMutablePointer<ck_attend_item>
    public let byteCount: Int

    init(sizes: Sizes, batchCapacity: Int) {
        self.batchCapacity = batchCapacity
        attendItems = .allocate(capacity: max(1, batchCapacity * sizes.heads))
        storage = .allocate(capacity: sizes.total)
        storage.initialize(repeating: 0, count: sizes.total)
        byteCount = Self.byteCount(sizes: sizes, batchCapacity: batchCapacity)
        var next = storage
        func take(_ count: Int) -> UnsafeMutablePointer<Float> {
            defer { next += count }
            return next
        }
        residual = take(sizes.residual)
        normed = take(sizes.normed)
        query = take(sizes.query)
        key = take(sizes.key)
        value = take(sizes.value)
        attention = take(sizes.attention)
        projected = take(sizes.projected)
        gate = take(sizes.gate)
        up = take(sizes.up)
    }

    /// Bytes a scratch of these sizes allocates.
    static func byteCount(sizes: Sizes, batchCapacity: Int) -> Int {
        sizes.total * 4 + max(1, batchCapacity * sizes.heads) * MemoryLayout<ck_attend_item>.stride
    }

    deinit {
        storage.deallocate()
        attendItems.deallocate()
    }
}
