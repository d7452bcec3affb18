// decode(encode(text)) for the other vocabularies where llama.cpp's detokenizer gives the text back.
import Tokenizer
import XCTest

final class RoundTripTests: XCTestCase {
    /// SentencePiece with a space prefix: without BOS, llama.cpp's detokenize drops the space the prefix added.
    func testLlamaSPMWithoutBOS() throws {
        let tokenizer = try ReferenceData.tokenizer(for: "llama-spm")
        for c in try ReferenceData.fixture("llama-spm").cases where !c.parse_special {
            XCTAssertEqual(
                tokenizer.decode(tokenizer.encode(c.text, addSpecial: false)), c.text, String(reflecting: c.text))
        }
        // With BOS stripped by skipSpecial, llama.cpp keeps the prefix space.
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("Hello")), " Hello")
    }

    /// Qwen 2 does not clean up spaces, so byte-level BPE gives every text back.
    func testQwen2() throws {
        let tokenizer = try ReferenceData.tokenizer(for: "qwen2")
        for c in try ReferenceData.fixture("qwen2").cases where !c.parse_special {
            XCTAssertEqual(tokenizer.decode(tokenizer.encode(c.text)), c.text, String(reflecting: c.text))
        }
    }

    /// GPT-2 cleans up tokenization spaces on decode, as llama.cpp's detokenize does.
    func testGPT2CleansSpaces() throws {
        let tokenizer = try ReferenceData.tokenizer(for: "gpt-2")
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("Hello , world . It 's ' quoted ' fine ?")),
                       "Hello, world. It's'quoted'fine?")
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("They 're here , aren 't they ?")),
                       "They're here, aren 't they?")
        XCTAssertEqual(tokenizer.decode(tokenizer.encode("Plain text stays.")), "Plain text stays.")
    }
}
