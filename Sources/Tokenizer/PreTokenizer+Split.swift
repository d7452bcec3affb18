// Hand-written scanners equivalent to llama.cpp's pre-tokenizer regexes (unicode.cpp): the custom GPT-2,
// Llama 3 and Qwen 2 scanners, and the std::regex splits ("isolate every match") used by `default` and `smollm`.
//
// All work on code points; a split is a list of segment lengths that always sums to the input length.

extension PreTokenizer {
    /// Splits `codepoints` (whose flags are `flags`) into words, returned as lengths in code points.
    func split(_ codepoints: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<CodepointFlags>) -> [Int] {
        var segments = codepoints.isEmpty ? [] : [codepoints.count]
        switch self {
        case .gpt2:
            segments = Self.scan(segments, codepoints, flags, Self.gpt2Words)
        case .llama3:
            segments = Self.scan(segments, codepoints, flags) { Self.llama3Words(&$0, digitGroup: 3) }
        case .qwen2:
            segments = Self.scan(segments, codepoints, flags) { Self.llama3Words(&$0, digitGroup: 1) }
        case .smollm:
            segments = Self.isolate(segments, codepoints, flags, Self.isNumber, runs: false)
            segments = Self.scan(segments, codepoints, flags, Self.gpt2Words)
        case .default:
            segments = Self.isolate(segments, codepoints, flags, Self.isDefaultPunctuation, runs: true)
            segments = Self.scan(segments, codepoints, flags, Self.gpt2Words)
            segments = Self.isolate(segments, codepoints, flags, Self.isNumber, runs: true)
            segments = Self.isolateDigitTriples(segments, codepoints)
        }
        return segments
    }

    // MARK: custom scanners

    /// Runs `words` over each segment with a cursor that sees only that segment, as llama.cpp's custom
    /// splitters do (positions outside read as "no code point, no flags").
    private static func scan(
        _ segments: [Int], _ codepoints: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<CodepointFlags>,
        _ words: (inout SegmentCursor) -> Void
    ) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(segments.count * 4)
        var start = 0
        for length in segments {
            var cursor = SegmentCursor(codepoints, flags, start..<(start + length), output: output)
            output = []
            words(&cursor)
            output = cursor.output
            start += length
        }
        return output
    }

    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    private static func gpt2Words(_ c: inout SegmentCursor) {
        var pos = c.start
        while pos < c.end {
            let cpt = c.codepoint(pos)
            let flags = c.flags(pos)

            if cpt == quote && pos + 1 < c.end {
                let next = c.codepoint(pos + 1)
                if next == s || next == t || next == m || next == d {
                    pos = c.emit(pos + 2)
                    continue
                }
                if pos + 2 < c.end {
                    let nextNext = c.codepoint(pos + 2)
                    if (next == r && nextNext == e) || (next == v && nextNext == e) || (next == l && nextNext == l) {
                        pos = c.emit(pos + 3)
                        continue
                    }
                }
            }

            let spaced = cpt == space
            var flags2 = spaced ? c.flags(pos + 1) : flags
            if flags2.contains(.letter) {
                if spaced { pos += 1 }
                while flags2.contains(.letter) {
                    pos += 1
                    flags2 = c.flags(pos)
                }
                pos = c.emit(pos)
                continue
            }
            if flags2.contains(.number) {
                if spaced { pos += 1 }
                while flags2.contains(.number) {
                    pos += 1
                    flags2 = c.flags(pos)
                }
                pos = c.emit(pos)
                continue
            }
            if flags2.isDisjoint(with: .wordClasses) && flags2.contains(.defined) {
                if spaced { pos += 1 }
                while flags2.isDisjoint(with: .wordClasses) && flags2.contains(.defined) {
                    pos += 1
                    flags2 = c.flags(pos)
                }
                pos = c.emit(pos)
                continue
            }

            var whitespaceCount = 0
            while c.flags(pos + whitespaceCount).contains(.whitespace) { whitespaceCount += 1 }
            if whitespaceCount > 1 && c.codepoint(pos + whitespaceCount) != outOfRange {
                pos = c.emit(pos + whitespaceCount - 1)
                continue
            }
            if whitespaceCount > 0 {
                pos = c.emit(pos + whitespaceCount)
                continue
            }
            pos = c.emit(pos + 1)
        }
    }

    /// Llama 3 (`digitGroup` 3) and Qwen 2 (`digitGroup` 1):
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|`
    /// `\s+(?!\S)|\s+`
    private static func llama3Words(_ c: inout SegmentCursor, digitGroup: Int) {
        var pos = c.start
        while pos < c.end {
            let cpt = c.codepoint(pos)
            let flags = c.flags(pos)

            if cpt == quote && pos + 1 < c.end {
                let next = asciiLowercase(c.codepoint(pos + 1))
                if next == s || next == t || next == m || next == d {
                    pos = c.emit(pos + 2)
                    continue
                }
                if pos + 2 < c.end {
                    let nextNext = asciiLowercase(c.codepoint(pos + 2))
                    if (next == r && nextNext == e) || (next == v && nextNext == e) || (next == l && nextNext == l) {
                        pos = c.emit(pos + 3)
                        continue
                    }
                }
            }

            if !(cpt == carriageReturn || cpt == newline || flags.contains(.number)) {
                if flags.contains(.letter) || c.flags(pos + 1).contains(.letter) {
                    pos += 1
                    while c.flags(pos).contains(.letter) { pos += 1 }
                    pos = c.emit(pos)
                    continue
                }
            }

            if flags.contains(.number) {
                if digitGroup == 1 {
                    pos = c.emit(pos + 1)
                    continue
                }
                var groupStart = pos
                while c.flags(pos).contains(.number) {
                    pos += 1
                    if pos - groupStart >= digitGroup {
                        c.emit(pos)
                        groupStart = pos
                    }
                }
                pos = c.emit(pos)
                continue
            }

            // llama.cpp tests the first code point's own flags for being inside the segment here, not flags2.
            var flags2 = cpt == space ? c.flags(pos + 1) : flags
            if flags2.isDisjoint(with: .wordClasses) && flags.contains(.defined) {
                if cpt == space { pos += 1 }
                while flags2.isDisjoint(with: .wordClasses) && flags2.contains(.defined) {
                    pos += 1
                    flags2 = c.flags(pos)
                }
                var cpt2 = c.codepoint(pos)
                while cpt2 == carriageReturn || cpt2 == newline {
                    pos += 1
                    cpt2 = c.codepoint(pos)
                }
                pos = c.emit(pos)
                continue
            }

            var whitespaceCount = 0
            var lastNewlineEnd = 0
            while c.flags(pos + whitespaceCount).contains(.whitespace) {
                let cpt2 = c.codepoint(pos + whitespaceCount)
                if cpt2 == carriageReturn || cpt2 == newline { lastNewlineEnd = pos + whitespaceCount + 1 }
                whitespaceCount += 1
            }
            if lastNewlineEnd > 0 {
                pos = c.emit(lastNewlineEnd)
                continue
            }
            if whitespaceCount > 1 && c.codepoint(pos + whitespaceCount) != outOfRange {
                pos = c.emit(pos + whitespaceCount - 1)
                continue
            }
            if whitespaceCount > 0 {
                pos = c.emit(pos + whitespaceCount)
                continue
            }
            pos = c.emit(pos + 1)
        }
    }

    // MARK: regex splits

    /// llama.cpp's std::regex split for a one-class pattern: every match (a maximal run of `member` code points
    /// when `runs`, else a single one) becomes its own segment, and so does each stretch between matches.
    private static func isolate(
        _ segments: [Int], _ codepoints: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<CodepointFlags>,
        _ member: (UInt32, CodepointFlags) -> Bool, runs: Bool
    ) -> [Int] {
        var output: [Int] = []
        output.reserveCapacity(segments.count * 2)
        var start = 0
        for length in segments {
            let end = start + length
            var gapStart = start
            var pos = start
            while pos < end {
                guard member(codepoints[pos], flags[pos]) else {
                    pos += 1
                    continue
                }
                if pos > gapStart { output.append(pos - gapStart) }
                let matchStart = pos
                pos += 1
                if runs {
                    while pos < end && member(codepoints[pos], flags[pos]) { pos += 1 }
                }
                output.append(pos - matchStart)
                gapStart = pos
            }
            if end > gapStart { output.append(end - gapStart) }
            start = end
        }
        return output
    }

    /// `[0-9][0-9][0-9]`: leftmost groups of three ASCII digits, each isolated.
    private static func isolateDigitTriples(_ segments: [Int], _ codepoints: UnsafeBufferPointer<UInt32>) -> [Int] {
        func isDigit(_ cpt: UInt32) -> Bool { cpt >= 0x30 && cpt <= 0x39 }
        var output: [Int] = []
        output.reserveCapacity(segments.count)
        var start = 0
        for length in segments {
            let end = start + length
            var gapStart = start
            var pos = start
            while pos + 3 <= end {
                if isDigit(codepoints[pos]) && isDigit(codepoints[pos + 1]) && isDigit(codepoints[pos + 2]) {
                    if pos > gapStart { output.append(pos - gapStart) }
                    output.append(3)
                    pos += 3
                    gapStart = pos
                } else {
                    pos += 1
                }
            }
            if end > gapStart { output.append(end - gapStart) }
            start = end
        }
        return output
    }

    /// `\p{N}` as llama.cpp evaluates it on its "collapsed" text: ASCII 0-9, or a non-ASCII number that is not
    /// whitespace.
    private static func isNumber(_ cpt: UInt32, _ flags: CodepointFlags) -> Bool {
        cpt < 128 ? (cpt >= 0x30 && cpt <= 0x39) : (flags.contains(.number) && !flags.contains(.whitespace))
    }

    /// `[\p{P}\$\+<=>\^~\|]` on the collapsed text: ASCII punctuation and $+<=>^~| (not the backtick), or a
    /// non-ASCII punctuation code point.
    private static func isDefaultPunctuation(_ cpt: UInt32, _ flags: CodepointFlags) -> Bool {
        if cpt < 128 {
            return flags.contains(.punctuation) || cpt == 0x24 || cpt == 0x2B || (cpt >= 0x3C && cpt <= 0x3E)
                || cpt == 0x5E || cpt == 0x7C || cpt == 0x7E
        }
        return flags.contains(.punctuation) && !flags.contains(.whitespace)
    }

    private static func asciiLowercase(_ cpt: UInt32) -> UInt32 {
        cpt >= 0x41 && cpt <= 0x5A ? cpt + 0x20 : cpt
    }
}

private let outOfRange: UInt32 = 0xFFFF_FFFF
private let quote = UInt32(UInt8(ascii: "'"))
private let space: UInt32 = 0x20
private let newline: UInt32 = 0x0A
private let carriageReturn: UInt32 = 0x0D
private let s = UInt32(UInt8(ascii: "s"))
private let t = UInt32(UInt8(ascii: "t"))
private let m = UInt32(UInt8(ascii: "m"))
private let d = UInt32(UInt8(ascii: "d"))
private let r = UInt32(UInt8(ascii: "r"))
private let e = UInt32(UInt8(ascii: "e"))
private let v = UInt32(UInt8(ascii: "v"))
private let l = UInt32(UInt8(ascii: "l"))

/// A view of one segment for the custom scanners: reads outside `start..<end` give `outOfRange` and no flags,
/// and `emit` closes the word that ends at a position.
struct SegmentCursor {
    let start: Int
    let end: Int
    private let codepoints: UnsafeBufferPointer<UInt32>
    private let allFlags: UnsafeBufferPointer<CodepointFlags>
    private var previousEnd: Int
    private(set) var output: [Int]

    init(
        _ codepoints: UnsafeBufferPointer<UInt32>, _ flags: UnsafeBufferPointer<CodepointFlags>, _ range: Range<Int>,
        output: [Int]
    ) {
        self.codepoints = codepoints
        self.allFlags = flags
        self.start = range.lowerBound
        self.end = range.upperBound
        self.previousEnd = range.lowerBound
        self.output = output
    }

    @inline(__always)
    func codepoint(_ pos: Int) -> UInt32 { pos >= start && pos < end ? codepoints[pos] : outOfRange }

    @inline(__always)
    func flags(_ pos: Int) -> CodepointFlags { pos >= start && pos < end ? allFlags[pos] : [] }

    /// Ends the current word at `position` (an empty word is dropped) and returns `position`.
    @discardableResult
    mutating func emit(_ position: Int) -> Int {
        if position > previousEnd { output.append(position - previousEnd) }
        previousEnd = position
        return position
    }
}
