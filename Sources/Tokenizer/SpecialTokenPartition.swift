// Cutting special tokens out of raw text before the subword algorithm runs, with the result of llama.cpp's
// `tokenizer_st_partition`.
//
// llama.cpp tries each special token in turn, longest first, and splits every remaining text fragment at all of
// that token's leftmost non-overlapping occurrences. Doing that literally costs (special tokens × text length):
// Gemma has 6,414 special tokens. Here one trie walk per byte finds every occurrence of every special token at
// once; replaying those occurrences in llama.cpp's order (token rank, then position), accepting each one whose
// bytes are all still free text, gives the same fragments. A fragment is always a maximal run of free bytes, so
// "inside one fragment" is "every byte free".

/// A piece of the text to tokenize: raw bytes (a range of the UTF-8 input), or a special token already decided.
enum TextFragment: Equatable {
    case text(Range<Int>)
    case token(Int32)
}

/// A byte trie over the special tokens' texts. Built once per vocabulary.
struct SpecialTokenMatcher: Sendable {
    /// Child of node `n` on byte `b`, keyed by `n << 8 | b`.
    private var children: [Int: Int] = [:]
    /// The rank (index in `order`) of the token ending at each node, or -1.
    private var terminal: [Int] = [-1]
    /// Whether any special token starts with this byte; most text positions need no trie walk at all.
    private var startsToken = [Bool](repeating: false, count: 256)
    /// Special tokens in the order llama.cpp tries them (longest text first).
    private let order: [Int32]
    private let lengths: [Int]

    init(vocabulary: Vocabulary) {
        order = vocabulary.partitionOrder
        lengths = order.map { vocabulary.text($0).count }
        children.reserveCapacity(order.reduce(0) { $0 + vocabulary.text($1).count })
        for (rank, id) in order.enumerated() {
            let text = vocabulary.text(id)
            guard let first = text.first else { continue }
            startsToken[Int(first)] = true
            var node = 0
            for byte in text {
                let key = node << 8 | Int(byte)
                if let child = children[key] {
                    node = child
                } else {
                    terminal.append(-1)
                    children[key] = terminal.count - 1
                    node = terminal.count - 1
                }
            }
            terminal[node] = rank
        }
    }

    /// Splits `text` into raw fragments and special tokens. Control and unknown tokens are matched only when
    /// `parseSpecial`; user-defined ones always. A token with the left-/right-strip attribute swallows the ASCII
    /// whitespace beside it.
    func partition(
        _ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, attributes: [TokenAttributes]
    ) -> [TextFragment] {
        let n = text.count
        guard n > 0 else { return [] }

        // Every occurrence of an eligible special token, in the order llama.cpp meets them: by rank, then by
        // start. Two walks over the text: the first counts each rank's occurrences, the second files their starts
        // into one array bucketed by rank (ascending within a rank, as the scan goes). Four bytes an occurrence:
        // a run of 30 spaces matches 30 nested whitespace tokens at every position.
        precondition(n < Int(Int32.max), "texts over 2 GiB are not tokenized")
        var bucketEnd = [Int](repeating: 0, count: order.count + 1)
        let found = forEachOccurrence(text, parseSpecial: parseSpecial, attributes: attributes) { rank, _ in
            bucketEnd[rank + 1] += 1
        }
        guard found > 0 else { return [.text(0..<n)] }
        for rank in 0..<order.count { bucketEnd[rank + 1] += bucketEnd[rank] }
        var starts = [Int32](repeating: 0, count: found)
        var next = bucketEnd
        forEachOccurrence(text, parseSpecial: parseSpecial, attributes: attributes) { rank, start in
            starts[next[rank]] = Int32(start)
            next[rank] += 1
        }

        // state[i]: free text, a byte stripped away, inside an accepted token, or the start of one (its id).
        var state = [Int32](repeating: free, count: n)
        for rank in 0..<order.count {
            for index in bucketEnd[rank]..<bucketEnd[rank + 1] {
                let start = Int(starts[index])
                let end = start + lengths[rank]
                var available = true
                for i in start..<end where state[i] != free {
                    available = false
                    break
                }
                guard available else { continue }
                let id = order[rank]
                state[start] = id
                for i in (start + 1)..<end { state[i] = inside }
                if attributes[Int(id)].contains(.leftStrip) {
                    var i = start - 1
                    while i >= 0 && state[i] == free && isASCIISpace(text[i]) {
                        state[i] = stripped
                        i -= 1
                    }
                }
                if attributes[Int(id)].contains(.rightStrip) {
                    var i = end
                    while i < n && state[i] == free && isASCIISpace(text[i]) {
                        state[i] = stripped
                        i += 1
                    }
                }
            }
        }

        var fragments: [TextFragment] = []
        var i = 0
        while i < n {
            switch state[i] {
            case free:
                let start = i
                while i < n && state[i] == free { i += 1 }
                fragments.append(.text(start..<i))
            case stripped, inside:
                i += 1
            default:
                fragments.append(.token(state[i]))
                i += 1
            }
        }
        return fragments
    }
}

extension SpecialTokenMatcher {
    /// Calls `body(rank, start)` for every eligible special token occurring in `text`, by ascending start;
    /// returns how many there were.
    @discardableResult
    private func forEachOccurrence(
        _ text: UnsafeBufferPointer<UInt8>, parseSpecial: Bool, attributes: [TokenAttributes], _ body: (Int, Int) -> Void
    ) -> Int {
        let n = text.count
        var found = 0
        for start in 0..<n where startsToken[Int(text[start])] {
            var node = 0
            var pos = start
            while pos < n, let child = children[node << 8 | Int(text[pos])] {
                node = child
                pos += 1
                let rank = terminal[node]
                guard rank >= 0 else { continue }
                if parseSpecial || attributes[Int(order[rank])].isDisjoint(with: .special) {
                    body(rank, start)
                    found += 1
                }
            }
        }
        return found
    }
}

private let free: Int32 = -1
private let stripped: Int32 = -2
private let inside: Int32 = -3

/// C's isspace in the "C" locale, which llama.cpp uses for the strip attributes.
private func isASCIISpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }
