// The real Gemma 3 vocabulary: its metadata, token roles, pieces and decoding. Ids were read from the GGUF with
// the `gguf` Python package.
import Tokenizer
import XCTest

final class GemmaTokenizerTests: XCTestCase {
    private func gemma() throws -> Tokenizer { try ReferenceData.tokenizer(for: "gemma3") }

    func testMetadata() throws {
        let tokenizer = try gemma()
        XCTAssertEqual(tokenizer.vocabularySize, 262_144)
        XCTAssertEqual(tokenizer.bosToken, 2)
        XCTAssertEqual(tokenizer.eosToken, 1)
        XCTAssertTrue(tokenizer.addsBOS)
        XCTAssertEqual(tokenizer.encode(""), [2])
        XCTAssertEqual(tokenizer.encode("", addSpecial: false), [])
    }

    func testEndOfGenerationAndControl() throws {
        let tokenizer = try gemma()
        XCTAssertTrue(tokenizer.isEndOfGeneration(1), "<eos>")
        XCTAssertTrue(tokenizer.isEndOfGeneration(106), "<end_of_turn>")
        XCTAssertFalse(tokenizer.isEndOfGeneration(105), "<start_of_turn>")
        XCTAssertFalse(tokenizer.isEndOfGeneration(2), "<bos>")
        XCTAssertFalse(tokenizer.isEndOfGeneration(9259), "Hello")
        XCTAssertFalse(tokenizer.isEndOfGeneration(-1))
        XCTAssertFalse(tokenizer.isEndOfGeneration(262_144))

        // Gemma's converter typed <unk> (3) as control too.
        for control: Int32 in [0, 1, 2, 3, 4, 6, 105, 106] { XCTAssertTrue(tokenizer.isControl(control), "\(control)") }
        for other: Int32 in [5, 107, 138, 168, 9259, 478, -5, 300_000] {
            XCTAssertFalse(tokenizer.isControl(other), "\(other)")
        }
    }

    func testPieces() throws {
        let tokenizer = try gemma()
        XCTAssertEqual(tokenizer.piece(9259), Array("Hello".utf8))
        XCTAssertEqual(tokenizer.piece(1902), Array(" world".utf8), "▁ is a space")
        XCTAssertEqual(tokenizer.piece(236_743), [0x20])
        XCTAssertEqual(tokenizer.piece(478), [0xF0], "byte token <0xF0>")
        XCTAssertEqual(tokenizer.piece(248), [0x0A], "byte token <0x0A>")
        XCTAssertEqual(tokenizer.piece(105), Array("<start_of_turn>".utf8), "control tokens render as their text")
        XCTAssertEqual(tokenizer.piece(108), Array("\n\n".utf8), "user-defined tokens render as their text")
        XCTAssertEqual(tokenizer.piece(-1), [])
        XCTAssertEqual(tokenizer.piece(262_144), [])
    }

    func testDecodeSkipsOrKeepsSpecialTokens() throws {
        let tokenizer = try gemma()
        let ids = tokenizer.encode("<start_of_turn>user\nHi<end_of_turn>", parseSpecial: true)
        XCTAssertEqual(ids.first, 2)
        XCTAssertEqual(tokenizer.decode(ids), "user\nHi")
        XCTAssertEqual(tokenizer.decode(ids, skipSpecial: false), "<bos><start_of_turn>user\nHi<end_of_turn>")
        XCTAssertEqual(tokenizer.decode([9259, 478]), "Hello\u{FFFD}", "a cut-off character decodes as U+FFFD")
    }

    /// Gemma has no space prefix, so every text comes back byte for byte (byte fallback covers all the rest),
    /// with and without BOS. llama.cpp's detokenize does the same.
    func testRoundTripOfEveryFixtureText() throws {
        let tokenizer = try gemma()
        for c in try ReferenceData.fixture("gemma3").cases where !c.parse_special {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(c.text)), c.text, String(reflecting: c.text))
            XCTAssertEqual(
                tokenizer.decode(tokenizer.encode(c.text, addSpecial: false)), c.text, String(reflecting: c.text))
        }
    }
}
