// Text that arrives token by token must come out in whole characters only.
import Tokenizer
import XCTest

final class StreamingDecoderTests: XCTestCase {
    // Gemma's byte tokens <0xF0> <0x9F> <0x98> <0x80> spell 😀; <0xFF> is never valid UTF-8.
    private let f0: Int32 = 478, x9f: Int32 = 397, x98: Int32 = 390, x80: Int32 = 366, xff: Int32 = 493
    private let hello: Int32 = 9259, world: Int32 = 1902, endOfTurn: Int32 = 106

    func testEmojiSplitAcrossByteTokensAppearsOnlyWhenComplete() throws {
        var decoder = StreamingDecoder(tokenizer: try ReferenceData.tokenizer(for: "gemma3"))
        XCTAssertEqual(decoder.append(hello), "Hello")
        XCTAssertEqual(decoder.append(f0), "")
        XCTAssertEqual(decoder.append(x9f), "")
        XCTAssertEqual(decoder.append(x98), "")
        XCTAssertEqual(decoder.append(x80), "😀")
        XCTAssertEqual(decoder.append(world), " world")
        XCTAssertEqual(decoder.finish(), "")
    }

    func testTheWholeStreamEqualsDecode() throws {
        let tokenizer = try ReferenceData.tokenizer(for: "gemma3")
        let text = "Family: 👨‍👩‍👧‍👦 𠀀𠀁𪚥 and 🇫🇷 — done\n"
        let ids = tokenizer.encode(text, addSpecial: false)
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        var streamed = ""
        for id in ids {
            let piece = decoder.append(id)
            streamed += piece
            XCTAssertFalse(piece.contains("\u{FFFD}"), "no half characters for \(id)")
        }
        streamed += decoder.finish()
        XCTAssertEqual(streamed, text)
    }

    func testInvalidAndUnfinishedBytes() throws {
        var decoder = StreamingDecoder(tokenizer: try ReferenceData.tokenizer(for: "gemma3"))
        XCTAssertEqual(decoder.append(xff), "\u{FFFD}", "a byte that starts no character is not held back")
        XCTAssertEqual(decoder.append(f0), "")
        XCTAssertEqual(decoder.append(hello), "\u{FFFD}Hello", "a character cut off by a new one is U+FFFD")
        XCTAssertEqual(decoder.append(f0), "")
        XCTAssertEqual(decoder.append(x9f), "")
        XCTAssertEqual(decoder.finish(), "\u{FFFD}", "finish flushes an unfinished character")
        XCTAssertEqual(decoder.finish(), "")
    }

    func testControlTokensRenderAsNothing() throws {
        var decoder = StreamingDecoder(tokenizer: try ReferenceData.tokenizer(for: "gemma3"))
        XCTAssertEqual(decoder.append(endOfTurn), "")
        XCTAssertEqual(decoder.append(2), "")
        XCTAssertEqual(decoder.append(hello), "Hello")
    }
}
