// The work queue both merge algorithms share: a binary heap of candidate merges of adjacent symbols.

/// A candidate merge of symbol `left` with the symbol after it. `priority` orders merges (higher first): the
/// token's score for SentencePiece, the negated merge rank for BPE. `size` is the merged length in bytes, used to
/// recognise candidates made stale by an earlier merge.
struct MergeCandidate {
    var priority: Float
    var left: Int
    var right: Int
    var size: Int

    /// llama.cpp's comparators: higher priority first, then the leftmost.
    @inline(__always)
    func precedes(_ other: MergeCandidate) -> Bool {
        priority > other.priority || (priority == other.priority && left < other.left)
    }
}

/// A max-heap by `MergeCandidate.precedes`. Equal candidates can only be duplicates or stale entries, so the
/// order among them does not change the result.
struct MergeHeap {
    private var items: [MergeCandidate] = []

    var isEmpty: Bool { items.isEmpty }

    mutating func removeAll() { items.removeAll(keepingCapacity: true) }

    mutating func push(_ item: MergeCandidate) {
        items.append(item)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[child].precedes(items[parent]) else { break }
            items.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> MergeCandidate {
        let top = items[0]
        let last = items.removeLast()
        if !items.isEmpty {
            items[0] = last
            var parent = 0
            let count = items.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var best = left
                if left + 1 < count && items[left + 1].precedes(items[left]) { best = left + 1 }
                guard items[best].precedes(items[parent]) else { break }
                items.swapAt(best, parent)
                parent = best
            }
        }
        return top
    }
}

/// One symbol of the text being merged: a byte range of the session's buffer in a doubly linked list. A symbol
/// merged into its left neighbour keeps its place with `length` 0.
struct MergeSymbol {
    var start: Int
    var length: Int
    var previous: Int
    var next: Int
}
