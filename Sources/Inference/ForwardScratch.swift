// Buffers a forward pass works in, allocated once per context and reused for every batch.

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
        /// Per-head attention scores over the context.
        public var scores: Int
        /// Rotary cos/sin for one position.
        public var rope: Int

        public init(residual: Int, normed: Int, query: Int, key: Int, value: Int, attention: Int, projected: Int,
                    gate: Int, up: Int, scores: Int, rope: Int) {
            self.residual = residual
            self.normed = normed
            self.query = query
            self.key = key
            self.value = value
            self.attention = attention
            self.projected = projected
            self.gate = gate
            self.up = up
            self.scores = scores
            self.rope = rope
        }

        var total: Int { residual + normed + query + key + value + attention + projected + gate + up + scores + 2 * rope }
    }

    public let batchCapacity: Int
    let storage: UnsafeMutablePointer<Float>
    let residual, normed, query, key, value, attention, projected, gate, up, scores, ropeCos, ropeSin: UnsafeMutablePointer<Float>
    public let byteCount: Int

    init(sizes: Sizes, batchCapacity: Int) {
        self.batchCapacity = batchCapacity
        storage = .allocate(capacity: sizes.total)
        storage.initialize(repeating: 0, count: sizes.total)
        byteCount = sizes.total * 4
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
        scores = take(sizes.scores)
        ropeCos = take(sizes.rope)
        ropeSin = take(sizes.rope)
    }

    deinit { storage.deallocate() }
}
