// Byte-level BPE as llama.cpp's llm_tokenizer_bpe_session does it: pre-tokenize into words, map every byte to
// its GPT-2 character, merge adjacent symbols by lowest merge rank, and spell leftovers byte by byte.

/// Reusable buffers for tokenizing the raw fragments of one text.
struct BytePairSession {
    private let vocabulary: Vocabulary
    private let configuration: PreTokenizerConfiguration
    private let merges: ByteStringTable
    private var codepoints: [UInt32] = []
    private var flags: [CodepointFlags] = []
    /// Byte offset in the fragment of each code point, plus the end.
    private var byteOffsets: [Int] = []
    /// The current word, byte-level encoded.
    private var word: [UInt8] = []
    private var symbols: [MergeSymbol] = []
    private var heap = MergeHeap()

    init(vocabulary: Vocabulary, configuration: PreTokenizerConfiguration, merges: ByteStringTable) {
        self.vocabulary = vocabulary
        self.configuration = configuration
        self.merges = merges
    }

    mutating func tokenize(_ fragment: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        decodeCodepoints(fragment)
        let words = codepoints.withUnsafeBufferPointer { cpts in
            flags.withUnsafeBufferPointer { configuration.splitter.split(cpts, $0) }
        }
        var first = 0
        for length in words {
            word.removeAll(keepingCapacity: true)
            for i in byteOffsets[first]..<byteOffsets[first + length] {
                ByteLevelEncoding.append(fragment[i], to: &word)
            }
            first += length
            word.withUnsafeBufferPointer { mergeAndEmit($0, into: &output) }
        }
    }

    /// Fills `codepoints`, `flags` and `byteOffsets` from valid UTF-8 (a Swift String's bytes).
    private mutating func decodeCodepoints(_ fragment: UnsafeBufferPointer<UInt8>) {
        codepoints.removeAll(keepingCapacity: true)
        flags.removeAll(keepingCapacity: true)
        byteOffsets.removeAll(keepingCapacity: true)
        var offset = 0
        for scalar in String(decoding: fragment, as: UTF8.self).unicodeScalars {
            codepoints.append(scalar.value)
            flags.append(CodepointFlags(scalar))
            byteOffsets.append(offset)
            offset += UTF8.width(scalar)
        }
        byteOffsets.append(offset)
    }

    private mutating func mergeAndEmit(_ word: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        guard let base = word.baseAddress, !word.isEmpty else { return }
        let tokens = vocabulary.texts

        symbols.removeAll(keepingCapacity: true)
        if configuration.ignoreMerges && tokens.value(base, word.count) >= 0 {
            symbols.append(MergeSymbol(start: 0, length: word.count, previous: -1, next: -1))
        } else {
            var offset = 0
            while offset < word.count {
                let length = min(utf8SequenceLength(word[offset]), word.count - offset)
                let index = symbols.count
                offset += length
                symbols.append(MergeSymbol(
                    start: offset - length, length: length, previous: index - 1,
                    next: offset == word.count ? -1 : index + 1))
            }
        }

        heap.removeAll()
        func tryAdd(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let l = symbols[left]
            let size = l.length + symbols[right].length
            let rank = merges.value(base + l.start, size, tag: Int32(truncatingIfNeeded: l.length))
            guard rank >= 0 else { return }
            heap.push(MergeCandidate(priority: -Float(rank), left: left, right: right, size: size))
        }
        for i in 1..<max(symbols.count, 1) { tryAdd(i - 1, i) }

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

        for symbol in symbols where symbol.length > 0 {
            let id = tokens.value(base + symbol.start, symbol.length)
            if id >= 0 {
                output.append(id)
                continue
            }
            // llama.cpp then looks up each single byte of the encoded text; most are not tokens and vanish.
            for j in symbol.start..<(symbol.start + symbol.length) {
                let byteToken = tokens.value(base + j, 1)
                if byteToken >= 0 { output.append(byteToken) }
            }
        }
    }
}
