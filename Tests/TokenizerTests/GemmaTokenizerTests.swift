import Foundation
import GGUF
import Platform
import XCTest
@testable import Tokenizer

/// Our SentencePiece tokenizer against llama.cpp's llama-tokenize on the real Gemma 3 vocabulary.
final class GemmaTokenizerTests: XCTestCase {
    nonisolated(unsafe) static var loaded: (MappedFile, GGUFFile, Tokenizer)?

    static func tokenizer() throws -> Tokenizer {
        if let loaded { return loaded.2 }
        let path = ProcessInfo.processInfo.environment["OUTPOST_TEST_MODEL"]
            ?? NSHomeDirectory() + "/.cache/outpost/models/gemma-3-270m-q4_k_m.gguf"
        if !FileManager.default.fileExists(atPath: path) {
            if ProcessInfo.processInfo.environment["OUTPOST_SKIP_REAL_MODEL"] == "1" { throw XCTSkip("OUTPOST_SKIP_REAL_MODEL=1") }
            XCTFail("\(path) is missing: run scripts/fetch-model.sh (make test does)")
        }
        let mapping = try MappedFile(path: path)
        let gguf = try GGUFFile(bytes: mapping.bytes, owner: mapping)
        let tokenizer = try Tokenizer(gguf: gguf)
        loaded = (mapping, gguf, tokenizer)
        return tokenizer
    }

    struct Case: Decodable {
        let text: String
        let add_special: Bool
        let parse_special: Bool
        let ids: [Int32]
    }

    static func cases() throws -> [Case] {
        struct File: Decodable { let cases: [Case] }
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("tests/fixtures/tokenizer/gemma3.json")
        return try JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }

    func testEveryFixtureMatchesLlamaCpp() throws {
        let tokenizer = try Self.tokenizer()
        let cases = try Self.cases()
        XCTAssertGreaterThanOrEqual(cases.count, 60)
        var mismatches: [String] = []
        for c in cases {
            let ours = tokenizer.encode(c.text, addSpecial: c.add_special, parseSpecial: c.parse_special)
            if ours != c.ids { mismatches.append("\(c.text.debugDescription) parse_special=\(c.parse_special): ours \(ours) llama.cpp \(c.ids)") }
        }
        XCTAssertTrue(mismatches.isEmpty, mismatches.joined(separator: "\n"))
    }

    func testDecodeRoundTripsPlainText() throws {
        let tokenizer = try Self.tokenizer()
        for c in try Self.cases() where !c.parse_special && !c.text.contains("<") {
            let ids = tokenizer.encode(c.text, addSpecial: false)
            XCTAssertEqual(tokenizer.decode(ids), c.text)
        }
    }

    func testStreamingDecoderHoldsBackSplitCharacters() throws {
        let tokenizer = try Self.tokenizer()
        // A rare ideograph is not in the vocabulary: it becomes four byte tokens.
        let ids = tokenizer.encode("𪚥", addSpecial: false)
        XCTAssertEqual(ids.count, 4, "\(ids)")
        var decoder = StreamingDecoder(tokenizer: tokenizer)
        let pieces = ids.map { decoder.append($0) }
        XCTAssertEqual(pieces, ["", "", "", "𪚥"])
        XCTAssertEqual(decoder.finish(), "")
    }

    func testSpecialTokensAndEndOfGeneration() throws {
        let tokenizer = try Self.tokenizer()
        XCTAssertEqual(tokenizer.bosToken, 2)
        XCTAssertEqual(tokenizer.eosToken, 1)
        XCTAssertTrue(tokenizer.addsBOS)
        let endOfTurn = tokenizer.encode("<end_of_turn>", addSpecial: false, parseSpecial: true)
        XCTAssertEqual(endOfTurn, [106])
        XCTAssertTrue(tokenizer.isEndOfGeneration(106))
        XCTAssertTrue(tokenizer.isEndOfGeneration(1))
        XCTAssertFalse(tokenizer.isEndOfGeneration(2))
        XCTAssertEqual(tokenizer.decode([2, 9259, 106]), "Hello")
        XCTAssertEqual(tokenizer.decode([2, 9259, 106], skipSpecial: false), "<bos>Hello<end_of_turn>")
    }

    func testGemmaChatTemplateFoldsTheSystemPromptIntoTheFirstTurn() {
        let messages = [ChatMessage(role: "system", content: " Be brief. "), ChatMessage(role: "user", content: "Hi"),
                        ChatMessage(role: "assistant", content: "Hello!"), ChatMessage(role: "user", content: "Why?")]
        XCTAssertEqual(ChatTemplate.gemma.render(messages, addGenerationPrompt: true),
                       "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello!<end_of_turn>\n"
                       + "<start_of_turn>user\nWhy?<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(ChatTemplate.chatml.render([ChatMessage(role: "user", content: "Hi")], addGenerationPrompt: true),
                       "<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(ChatTemplate.llama3.render([ChatMessage(role: "user", content: "Hi ")], addGenerationPrompt: true),
                       "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n")
    }
}
