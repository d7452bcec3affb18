// Small synthetic vocabularies: what a bad file is told, and the merge rules on inputs small enough to reason about.
import GGUF
import Tokenizer
import XCTest

final class VocabularyLoadingTests: XCTestCase {
    private func load(_ bytes: [UInt8]) throws -> Tokenizer { try Tokenizer(gguf: GGUFFile(bytes: bytes)) }

    private func assertError(
        _ bytes: [UInt8], subject: String, mentioning text: String, line: UInt = #line
    ) {
        XCTAssertThrowsError(try load(bytes), line: line) { error in
            guard let error = error as? TokenizerError else { return XCTFail("\(error)", line: line) }
            XCTAssertEqual(error.subject, subject, line: line)
            XCTAssertTrue(error.description.contains(text), error.description, line: line)
        }
    }

    private let basic: [(String, Float, Int32)] = [("<unk>", 0, 2), ("<s>", 0, 3), ("</s>", 0, 3), ("a", -1, 1)]

    func testUnsupportedModel() {
        assertError(MetadataWriter.vocabulary(model: "bert", tokens: basic), subject: "tokenizer.ggml.model",
                    mentioning: "'bert' is not supported")
    }

    func testMissingOrMistypedTokens() {
        assertError(MetadataWriter.file([("tokenizer.ggml.model", .string("llama"))]),
                    subject: "tokenizer.ggml.tokens", mentioning: "missing")
        assertError(MetadataWriter.file([
            ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .array(.int32s([1, 2]))),
        ]), subject: "tokenizer.ggml.tokens", mentioning: "expected an array of strings")
    }

    func testShortScoresAndTypes() {
        let tokens: (String, GGUFValue) = ("tokenizer.ggml.tokens", .array(.strings(["a", "b", "c"])))
        assertError(MetadataWriter.file([
            ("tokenizer.ggml.model", .string("llama")), tokens, ("tokenizer.ggml.scores", .array(.float32s([0, 0]))),
        ]), subject: "tokenizer.ggml.scores", mentioning: "2 scores for 3 tokens")
        assertError(MetadataWriter.file([
            ("tokenizer.ggml.model", .string("llama")), tokens, ("tokenizer.ggml.token_type", .array(.int32s([1]))),
        ]), subject: "tokenizer.ggml.token_type", mentioning: "1 token types for 3 tokens")
    }

    func testDuplicateTokenText() {
        assertError(MetadataWriter.vocabulary(model: "llama", tokens: basic + [("a", -2, 1)]),
                    subject: "tokenizer.ggml.tokens", mentioning: "token 4 has the same text as token 3")
    }

    func testBPENeedsMergesAndAKnownPreTokenizer() {
        assertError(MetadataWriter.vocabulary(model: "gpt2", tokens: basic), subject: "tokenizer.ggml.merges",
                    mentioning: "missing")
        assertError(MetadataWriter.vocabulary(model: "gpt2", tokens: basic, extra: [
            ("tokenizer.ggml.pre", .string("deepseek-llm")), ("tokenizer.ggml.merges", .array(.strings([]))),
        ]), subject: "tokenizer.ggml.pre", mentioning: "'deepseek-llm' is not supported")
    }

    /// Equal scores merge leftmost first: "aaa" → "aa" + "a", never "a" + "aa".
    func testEqualScoresMergeLeftmostFirst() throws {
        let tokenizer = try load(MetadataWriter.vocabulary(model: "llama", tokens: basic + [("aa", -1, 1)], extra: [
            ("tokenizer.ggml.add_space_prefix", .bool(false)), ("tokenizer.ggml.add_bos_token", .bool(false)),
        ]))
        XCTAssertEqual(tokenizer.encode("aaa"), [4, 3])
        XCTAssertEqual(tokenizer.encode("aaaa"), [4, 4])
    }

    /// The higher-scoring pair wins even when it is further right; unknown characters without byte tokens vanish,
    /// as llama.cpp drops what it cannot spell.
    func testHigherScoreWinsAndByteFallback() throws {
        let tokens = basic + [("ab", -5, 1), ("bc", -1, 1), ("b", -1, 1), ("c", -1, 1), ("<0x7A>", 0, 6)]
        let tokenizer = try load(MetadataWriter.vocabulary(model: "llama", tokens: tokens, extra: [
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
        ]))
        XCTAssertEqual(tokenizer.encode("abc", addSpecial: false), [3, 5])
        XCTAssertEqual(tokenizer.encode("az", addSpecial: true), [1, 3, 8], "z falls back to <0x7A>")
        XCTAssertEqual(tokenizer.encode("aq", addSpecial: false), [3], "q has no token and no byte token")
        XCTAssertEqual(tokenizer.decode([1, 3, 8]), "az")
    }
}
