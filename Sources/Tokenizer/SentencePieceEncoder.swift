// SentencePiece-style BPE as llama.cpp's SPM tokenizer runs it: characters merged pairwise, highest vocabulary
// score first (leftmost on ties), then pieces missing from the vocabulary fall back to <0xXX> byte tokens.

struct SentencePieceEncoder {
    let vocabulary: Vocabulary

    private struct Symbol {
        var start: Int
        var length: Int
        var previous: Int
        var next: Int
    }

    private struct Bigram: Comparable {
        let left: Int
        let right: Int
        let score: Float
        let length: Int
        /// Max-heap order: higher score first, then the leftmost.
        static func < (a: Bigram, b: Bigram) -> Bool {
            a.score < b.score || (a.score == b.score && a.left > b.left)
        }
    }

    /// Encodes `text` (already with spaces escaped as U+2581) and appends the ids to `output`.
    func encode(_ text: [UInt8], into output: inout [Int32]) {
        guard !text.isEmpty else { return }
        var symbols: [Symbol] = []
        var offset = 0
        while offset < text.count {
            let length = min(Self.utf8Length(text[offset]), text.count - offset)
            symbols.append(Symbol(start: offset, length: length, previous: symbols.count - 1, next: symbols.count + 1))
            offset += length
        }
        symbols[symbols.count - 1].next = -1

        var heap = BinaryHeap<Bigram>()
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let start = symbols[left].start
            let length = symbols[left].length + symbols[right].length
            let piece = String(decoding: text[start..<(start + length)], as: UTF8.self)
            guard let id = vocabulary.index[piece] else { return }
            heap.push(Bigram(left: left, right: right, score: vocabulary.scores[Int(id)], length: length))
        }
        for i in 1..<symbols.count { tryAdd(i - 1, i) }

        while let bigram = heap.pop() {
            let left = symbols[bigram.left], right = symbols[bigram.right]
            // Skip bigrams made stale by an earlier merge.
            guard left.length > 0, right.length > 0, left.length + right.length == bigram.length, left.next == bigram.right else { continue }
            symbols[bigram.left].length += right.length
            symbols[bigram.right].length = 0
            symbols[bigram.left].next = right.next
            if right.next >= 0 { symbols[right.next].previous = bigram.left }
            tryAdd(symbols[bigram.left].previous, bigram.left)
            tryAdd(bigram.left, symbols[bigram.left].next)
        }

        var i = 0
        while i >= 0 && i < symbols.count {
            let symbol = symbols[i]
            let bytes = text[symbol.start..<(symbol.start + symbol.length)]
            if let id = vocabulary.index[String(decoding: bytes, as: UTF8.self)] {
                output.append(id)
            } else {
                for byte in bytes {
                    if let id = vocabulary.byteTokens[Int(byte)] {
                        output.append(id)
                    } else if let unknown = vocabulary.unknown {
                        output.append(unknown)
                    }
                }
            }
            i = symbol.next
        }
    }

    static func utf8Length(_ lead: UInt8) -> Int {
        switch lead {
        case 0..<0x80: return 1
        case 0xC0..<0xE0: return 2
        case 0xE0..<0xF0: return 3
        default: return 4
        }
    }
}

/// A max-heap.
struct BinaryHeap<Element: Comparable> {
    private var items: [Element] = []

    mutating func push(_ element: Element) {
        items.append(element)
        var child = items.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard items[parent] < items[child] else { break }
            items.swapAt(parent, child)
            child = parent
        }
    }

    mutating func pop() -> Element? {
        guard !items.isEmpty else { return nil }
        items.swapAt(0, items.count - 1)
        let top = items.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var largest = parent
            if left < items.count && items[largest] < items[left] { largest = left }
            if right < items.count && items[largest] < items[right] { largest = right }
            if largest == parent { break }
            items.swapAt(parent, largest)
            parent = largest
        }
        return top
    }
}
