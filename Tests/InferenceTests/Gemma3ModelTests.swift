import Foundation
import GGUF
import Platform
import TestKit
import XCTest
@testable import Inference

/// The real model against llama.cpp's numbers, from token ids llama.cpp produced (so the tokenizer is not involved).
final class Gemma3ModelTests: XCTestCase {
    static func modelPath() throws -> String {
        let path = ProcessInfo.processInfo.environment["OUTPOST_TEST_MODEL"]
            ?? NSHomeDirectory() + "/.cache/outpost/models/gemma-3-270m-q4_k_m.gguf"
        if !FileManager.default.fileExists(atPath: path) {
            if ProcessInfo.processInfo.environment["OUTPOST_SKIP_REAL_MODEL"] == "1" { throw XCTSkip("OUTPOST_SKIP_REAL_MODEL=1") }
            XCTFail("\(path) is missing: run scripts/fetch-model.sh (make test does)")
        }
        return path
    }

    static func fixture(_ name: String) throws -> [String: Any] {
        let url = Fixtures.url("gemma3/\(name)")
        return try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
    }

    func testPerplexityMatchesLlamaCppWithinHalfAPercent() throws {
        let mapping = try MappedFile(path: try Self.modelPath())
        let file = try GGUFFile(bytes: mapping.bytes, owner: mapping)
        let model = try ModelLoader.load(file)
        XCTAssertEqual(model.info.architecture, "gemma3")
        XCTAssertEqual(model.info.vocabularySize, 262_144)
        let expected = try Self.fixture("perplexity.json")
        let ids = (try Self.fixture("perplexity_tokens.json")["ids"] as! [Int]).map(Int32.init)
        let ctx = expected["ctx"] as! Int
        let context = try InferenceContext(model: model, contextLength: ctx, batchCapacity: 64, threads: 2, allLogits: true)
        let result = try Perplexity.compute(context: context, tokens: ids, bos: 2)
        let reference = expected["ppl"] as! Double
        XCTAssertEqual(result.chunks, expected["chunks"] as? Int)
        XCTAssertEqual(result.perplexity, reference, accuracy: reference * 0.005, "ours \(result.perplexity), llama.cpp \(reference)")
    }

    func testBatchedAndOneByOneEvaluationAgree() throws {
        let mapping = try MappedFile(path: try Self.modelPath())
        let file = try GGUFFile(bytes: mapping.bytes, owner: mapping)
        let model = try ModelLoader.load(file)
        let ids = Array((try Self.fixture("perplexity_tokens.json")["ids"] as! [Int]).prefix(40)).map(Int32.init)
        let batched = try InferenceContext(model: model, contextLength: 64, batchCapacity: 64, threads: 2)
        let last = Array(try batched.evaluate(ids))
        let single = try InferenceContext(model: model, contextLength: 64, batchCapacity: 1, threads: 1)
        let stepwise = Array(try single.evaluate(ids))
        var worst: Float = 0
        for i in last.indices { worst = max(worst, abs(last[i] - stepwise[i])) }
        XCTAssertLessThan(worst, 1e-3)
        XCTAssertEqual(Sampler.argmax(last.withUnsafeBufferPointer { $0 }), Sampler.argmax(stepwise.withUnsafeBufferPointer { $0 }))
    }

    func testPromptLongerThanContextIsAnError() throws {
        let mapping = try MappedFile(path: try Self.modelPath())
        let model = try ModelLoader.load(try GGUFFile(bytes: mapping.bytes, owner: mapping))
        let context = try InferenceContext(model: model, contextLength: 16, threads: 1)
        XCTAssertThrowsError(try context.evaluate([Int32](repeating: 5, count: 17))) { error in
            XCTAssertTrue("\(error)".contains("do not fit the context of 16"), "\(error)")
        }
        XCTAssertThrowsError(try context.evaluate([300_000])) { error in
            XCTAssertTrue("\(error)".contains("outside the vocabulary"), "\(error)")
        }
    }
}
