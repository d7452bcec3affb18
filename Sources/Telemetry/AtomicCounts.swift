// A fixed-length array of atomic counters (histogram buckets). `Atomic` is non-copyable, so it cannot live in an
// `Array`; we own a raw allocation instead, sized once at init and never resized.
import Synchronization

final class AtomicCounts: @unchecked Sendable {
    // @unchecked: the only mutable state is behind `Atomic`; the pointer itself never changes after init.
    private let slots: UnsafeMutablePointer<Atomic<UInt64>>
    let count: Int

    init(count: Int) {
        precondition(count > 0)
        self.count = count
        slots = .allocate(capacity: count)
        for i in 0..<count {
            (slots + i).initialize(to: Atomic(0))
        }
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    func increment(_ index: Int) {
        precondition(index >= 0 && index < count)
        slots[index].wrappingAdd(1, ordering: .relaxed)
    }

    func load(_ index: Int) -> UInt64 {
        precondition(index >= 0 && index < count)
        return slots[index].load(ordering: .relaxed)
    }
}
