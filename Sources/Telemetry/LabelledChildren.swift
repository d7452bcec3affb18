// The children of one family, keyed by label values. Looking a child up takes a lock and hashes the values, so
// callers resolve a child once (per route, per model) and keep it; updating a kept child is lock-free.
import Synchronization

final class LabelledChildren<Child: AnyObject & Sendable>: Sendable {
    let metricName: String
    let labelNames: [String]
    private let make: @Sendable () -> Child
    private let children: Mutex<[[String]: Child]>
    /// The single child of a family without labels, created eagerly so it is exposed as 0 before its first update.
    let unlabelled: Child?

    init(metricName: String, labelNames: [String], make: @escaping @Sendable () -> Child) {
        self.metricName = metricName
        self.labelNames = labelNames
        self.make = make
        if labelNames.isEmpty {
            let only = make()
            unlabelled = only
            children = Mutex([[]: only])
        } else {
            unlabelled = nil
            children = Mutex([:])
        }
    }

    func child(_ values: [String]) -> Child {
        precondition(
            values.count == labelNames.count,
            "metric '\(metricName)' has labels \(labelNames) but got \(values.count) values \(values)")
        if let unlabelled { return unlabelled }
        return children.withLock { map in
            if let existing = map[values] { return existing }
            let created = make()
            map[values] = created
            return created
        }
    }

    /// The fixed child of an unlabelled family; calling this on a labelled one is our bug.
    func onlyChild() -> Child {
        guard let unlabelled else {
            preconditionFailure("metric '\(metricName)' has labels \(labelNames); use labels(...) first")
        }
        return unlabelled
    }

    /// Children sorted by label values so the exposition is stable from scrape to scrape.
    func sorted() -> [(values: [String], child: Child)] {
        let copied = children.withLock { map in map.map { (values: $0.key, child: $0.value) } }
        return copied.sorted { $0.values.lexicographicallyPrecedes($1.values) }
    }
}
