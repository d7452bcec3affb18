// SentencePiece BPE as llama.cpp's llm_tokenizer_spm_session does it: UTF-8 characters merged pairwise by the
// highest-scoring resulting token, bytes as fallback for what stays unknown.

/// Reusable buffers for tokenizing the raw fragments of one text.
struct SentencePieceSession {
    private let vocabulary: Vocabulary
    /// The fragment with the optional leading space and every space replaced by U+2581 (▁).
    private var text: [UInt8] = []
    private var symbols: [MergeSymbol] = []
    private var heap = MergeHeap()

    init(vocabulary: Vocabulary) {
        self.vocabulary = vocabulary
    }

    mutating func tokenize(_ fragment: UnsafeBufferPointer<UInt8>, spacePrefix: Bool, into output: inout [Int32]) {
        text.removeAll(keepingCapacity: true)
        text.reserveCapacity(fragment.count + 8)
        if spacePrefix { text.append(contentsOf: lowerOneEighthBlock) }
        for byte in fragment {
            if byte == 0x20 { text.append(contentsOf: lowerOneEighthBlock) } else { text.append(byte) }
        }
        text.withUnsafeBufferPointer { mergeAndEmit($0, into: &output) }
    }

    private mutating func mergeAndEmit(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        guard let base = text.baseAddress, !text.isEmpty else { return }
        let tokens = vocabulary.texts

        // One symbol per UTF-8 character (a lead byte's length, cut short at the end).
        symbols.removeAll(keepingCapacity: true)
        var offset = 0
        while offset < text.count {
            let length = min(utf8SequenceLength(text[offset]), text.count - offset)
            let index = symbols.count
            offset += length
            symbols.append(MergeSymbol(
                start: offset - length, length: length, previous: index - 1,
                next: offset == text.count ? -1 : index + 1))
        }

        heap.removeAll()
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[left]
            let size = l.length + symbols[right].length
            let id = tokens.value(base + l.start, size)
            guard id >= 0 else { return }
            heap.push(MergeCandidate(
                priority: vocabulary.scores[Int(id)], left: left, right: right, size: size))
        }
        for i in 1..<symbols.count { tryAdd(i - 1, i) }

        while !heap.isEmpty {
            let candidate = heap.pop()
            let left = candidate.left
            let right = candidate.right
            let leftLength = symbols[left].length
            let rightLength = symbols[right].length
            if leftLength == 0 || rightLength == 0 || leftLength + rightLength != candidate.size { continue }

            symbols[left].length = leftLength + rightLength
            symbols[right].length = 0
            let next = symbols[right].next
            symbols[left].next = next
            if next >= 0 { symbols[next].previous = left }
            tryAdd(symbols[left].previous, left)
            tryAdd(left, next)
        }

        // Every merged symbol is a token; a single character may not be, and then goes out byte by byte.
        var i = 0
        while i >= 0 {
            let symbol = symbols[i]
            let id = tokens.value(base + symbol.start, symbol.length)
            if id >= 0 {
                output.append(id)
            } else {
                for j in symbol.start..<(symbol.start + symbol.length) {
                    let byteToken = vocabulary.byteTokens[Int(text[j])]
                    if byteToken >= 0 { output.append(byteToken) }
                }
            }
            i = symbol.next
        }
    }
}

/// U+2581, SentencePiece's stand-in for a space.
let lowerOneEighthBlock: [UInt8] = [0xE2, 0x96, 0x81]

/// llama.cpp's `unicode_len_utf8`: the sequence length a lead byte announces (1 for a stray continuation byte).
@inline(__always)
func utf8SequenceLength(_ byte: UInt8) -> Int {
    switch byte >> 4 {
    case 0xC, 0xD: 2
    case 0xE: 3
    case 0xF: 4
    default: 1
    }
}
