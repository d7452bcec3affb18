// Our ids against llama.cpp's llama-tokenize for every fixture text, per vocabulary.
import Tokenizer
import XCTest

final class LlamaCppFixtureTests: XCTestCase {
    func testGemma3() throws { try check("gemma3") }
    func testLlamaSPM() throws { try check("llama-spm") }
    func testPhi3RightStrip() throws { try check("phi-3") }
    func testLlama3BPE() throws { try check("llama-bpe") }
    func testQwen2() throws { try check("qwen2") }
    func testGPT2() throws { try check("gpt-2") }
    func testDefaultPreTokenizer() throws { try check("gpt-2-default") }
    func testSmolLMPreTokenizer() throws { try check("gpt-2-smollm") }

    /// The byte bound the agent checks before tokenizing a prompt holds for llama.cpp's own ids: no text
    /// has fewer tokens than ⌈bytes / longest token⌉ (plus BOS/EOS). Texts whose whitespace a right- or
    /// left-stripping special token swallows are the documented exception and are skipped.
    func testNoTextHasFewerTokensThanItsByteBound() throws {
        for name in ["gemma3", "llama-spm", "phi-3", "llama-bpe", "qwen2", "gpt-2", "gpt-2-default", "gpt-2-smollm"] {
            let fixture = try ReferenceData.fixture(name)
            let tokenizer = try ReferenceData.tokenizer(for: name)
            XCTAssertGreaterThan(tokenizer.longestTokenBytes, 4, name)
            var checked = 0
            for c in fixture.cases where !c.parse_special {
                let bound = tokenizer.minimumTokenCount(byteCount: c.text.utf8.count, addSpecial: c.add_special)
                XCTAssertGreaterThanOrEqual(c.ids.count, bound, "\(name): \(String(reflecting: c.text))")
                checked += 1
            }
            XCTAssertGreaterThan(checked, 50, name)
            // The bound is tight for a text made of the longest token: it cannot be beaten by one token.
            let spaces = String(repeating: " ", count: 10 * tokenizer.longestTokenBytes)
            XCTAssertLessThanOrEqual(tokenizer.minimumTokenCount(byteCount: spaces.utf8.count, addSpecial: false),
                                     tokenizer.encode(spaces, addSpecial: false).count, name)
        }
    }

    /// Every case must match exactly; a failure names the text and shows both id lists.
    private func check(_ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try ReferenceData.fixture(name)
        let tokenizer = try ReferenceData.tokenizer(for: name)
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 100, "\(name): too few fixture cases", file: file, line: line)
        var mismatches = 0
        for c in fixture.cases {
            let ids = tokenizer.encode(c.text, addSpecial: c.add_special, parseSpecial: c.parse_special)
            if ids != c.ids {
                mismatches += 1
                let flags = "add_special=\(c.add_special) parse_special=\(c.parse_special)"
                XCTFail(
                    "\(name) \(flags) \(String(reflecting: c.text))\n  llama.cpp: \(c.ids)\n  ours:      \(ids)",
                    file: file, line: line)
            }
        }
        XCTAssertEqual(
            mismatches, 0, "\(name): \(mismatches) of \(fixture.cases.count) cases differ", file: file, line: line)
    }
}
