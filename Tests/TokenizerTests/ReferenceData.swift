// Where the tests find what they compare against: the real Gemma model, llama.cpp's vocab-only GGUFs, and the
// fixtures tests/fixtures/make_tokenizer_fixtures.py wrote from llama.cpp's llama-tokenize.
import Foundation
import GGUF
import Platform
import Synchronization
import Tokenizer
import TestKit
import XCTest

enum ReferenceData {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    /// One llama-tokenize result.
    struct Case: Decodable {
        let text: String
        let add_special: Bool
        let parse_special: Bool
        let ids: [Int32]
    }

    struct Fixture: Decodable {
        let vocabulary: String
        let pre_override: String?
        let cases: [Case]
    }

    private static let environment = ProcessInfo.processInfo.environment
    private static let cache = environment["OUTPOST_CACHE"] ?? (environment["HOME"] ?? "/root") + "/.cache/outpost"

    /// Gemma 3 270M; skipped only when OUTPOST_SKIP_REAL_MODEL=1, a failure (never a skip) when missing.
    static func modelPath() throws -> String {
        if environment["OUTPOST_SKIP_REAL_MODEL"] == "1" { throw XCTSkip("OUTPOST_SKIP_REAL_MODEL=1") }
        let path = environment["OUTPOST_TEST_MODEL"] ?? cache + "/models/gemma-3-270m-q4_k_m.gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "the real test model is not at \(path): run scripts/fetch-model.sh (or point "
                + "OUTPOST_TEST_MODEL at gemma-3-270m-q4_k_m.gguf; OUTPOST_SKIP_REAL_MODEL=1 skips these tests)")
        }
        return path
    }

    /// llama.cpp's `models/ggml-vocab-<name>.gguf` from the llama-cpp-python source distribution.
    static func vocabularyPath(_ name: String) throws -> String {
        if environment["OUTPOST_SKIP_LLAMA_VOCABS"] == "1" { throw XCTSkip("OUTPOST_SKIP_LLAMA_VOCABS=1") }
        let directory = environment["LLAMA_CPP_VOCABS"]
            ?? cache + "/src/llama_cpp_python-0.3.36/vendor/llama.cpp/models"
        let path = directory + "/ggml-vocab-\(name).gguf"
        guard FileManager.default.fileExists(atPath: path) else {
            throw Missing(description: "llama.cpp's vocabulary \(path) is missing: run scripts/fetch-llama-vocabs.sh "
                + "(or set LLAMA_CPP_VOCABS; OUTPOST_SKIP_LLAMA_VOCABS=1 skips these tests)")
        }
        return path
    }

    /// The mapped, parsed file at `path`, shared by the tests of this process.
    static func open(_ path: String) throws -> GGUFFile {
        try files.withLock { files in
            if let file = files[path] { return file }
            let mapped = try MappedFile(path: path)
            let file = try GGUFFile(bytes: mapped.bytes, owner: mapped)
            files[path] = file
            return file
        }
    }

    /// The tokenizer for a fixture's vocabulary (the real model for "gemma3", a llama.cpp vocab file otherwise,
    /// with tokenizer.ggml.pre rewritten where the fixture says so), built once per process.
    static func tokenizer(for name: String) throws -> Tokenizer {
        if let cached = tokenizers.withLock({ $0[name] }) { return cached }
        let fixture = try fixture(name)
        let tokenizer: Tokenizer
        if name == "gemma3" {
            tokenizer = try Tokenizer(gguf: open(modelPath()))
        } else if let pre = fixture.pre_override {
            let base = try open(vocabularyPath("gpt-2"))
            let metadata = base.metadata.map { entry in
                (entry.key, entry.key == "tokenizer.ggml.pre" ? GGUFValue.string(pre) : entry.value)
            }
            tokenizer = try Tokenizer(gguf: GGUFFile(bytes: MetadataWriter.file(metadata)))
        } else {
            tokenizer = try Tokenizer(gguf: open(vocabularyPath(name)))
        }
        tokenizers.withLock { $0[name] = tokenizer }
        return tokenizer
    }

    static func fixture(_ name: String) throws -> Fixture {
        let url = Fixtures.url("tokenizer/\(name).json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    private static let files = Mutex<[String: GGUFFile]>([:])
    private static let tokenizers = Mutex<[String: Tokenizer]>([:])
}
