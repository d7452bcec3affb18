import Foundation
import GGUF
import XCTest
@testable import Inference

/// Continuous batching must be invisible: a sequence's logits do not depend on what else shares its steps, and
/// a prefix kept in a slot gives the same logits as computing it again.
final class BatchEngineTests: XCTestCase {
    func load(_ name: String) throws -> any LanguageModel {
        let url = TinyModelTests.directory.appendingPathComponent("\(name).gguf")
        return try ModelLoader.load(try GGUFFile(bytes: [UInt8](Data(contentsOf: url))))
    }

    /// Logits of `slot` for each step, copied.
    func run(_ engine: BatchEngine, _ steps: [[BatchEngine.Work]], slot: Int) throws -> [[Float]] {
        var out: [[Float]] = []
        for work in steps {
            let logits = try engine.step(work)
            for (w, l) in zip(work, logits) where w.slot == slot {
                if let l { out.append(Array(l)) }
            }
        }
        return out
    }

    func testSequencesSharingStepsGetTheLogitsTheyGetAlone() throws {
        for name in ["llama-q4_k", "llama-q5_0", "qwen2-q4_k_m", "llama-q8_0"] {
            let model = try load(name)
            let a: [Int32] = [1, 17, 33, 92, 5, 61, 7, 88, 12]
            let b: [Int32] = [1, 40, 41, 42, 43, 44, 45]
            let c: [Int32] = [1, 3]
            let follow: [Int32] = [11, 29, 71, 4]
            // Alone: prompt in two chunks, then one token per step.
            let alone = try BatchEngine(model: model, slots: 3, contextLength: 64, batchCapacity: 32, threads: 2)
            var steps: [[BatchEngine.Work]] = [[.init(slot: 0, tokens: Array(a[0..<4]), wantsLogits: false)],
                                               [.init(slot: 0, tokens: Array(a[4...]), wantsLogits: true)]]
            steps += follow.map { [BatchEngine.Work(slot: 0, tokens: [$0], wantsLogits: true)] }
            let expected = try run(alone, steps, slot: 0)
            // Together: other sequences prefill and decode in the same steps, in other slots and orders.
            let together = try BatchEngine(model: model, slots: 3, contextLength: 64, batchCapacity: 32, threads: 2)
            var mixed: [[BatchEngine.Work]] = [
                [.init(slot: 2, tokens: b, wantsLogits: true), .init(slot: 1, tokens: Array(a[0..<4]), wantsLogits: false)],
                [.init(slot: 1, tokens: Array(a[4...]), wantsLogits: true), .init(slot: 2, tokens: [9], wantsLogits: true),
                 .init(slot: 0, tokens: c, wantsLogits: true)],
            ]
            for (i, token) in follow.enumerated() {
                var work: [BatchEngine.Work] = [.init(slot: 1, tokens: [token], wantsLogits: true)]
                if i % 2 == 0 { work.insert(.init(slot: 2, tokens: [Int32(50 + i)], wantsLogits: true), at: 0) }
                if i < 2 { work.append(.init(slot: 0, tokens: [Int32(60 + i)], wantsLogits: i == 1)) }
                mixed.append(work)
            }
            let got = try run(together, mixed, slot: 1)
            XCTAssertEqual(got.count, expected.count, name)
            for (step, (g, e)) in zip(got, expected).enumerated() {
                XCTAssertEqual(g, e, "\(name): logits of step \(step) changed when other sequences shared the batch")
            }
        }
    }

    func testAKeptPrefixGivesTheLogitsOfARecomputedOne() throws {
        for name in ["llama-q4_k", "qwen2-q4_k_m", "llama-q5_0"] {
            let model = try load(name)
            let engine = try BatchEngine(model: model, slots: 2, contextLength: 64, batchCapacity: 32, threads: 2)
            let first: [Int32] = [1, 5, 6, 7, 8, 9, 10, 11]
            let second: [Int32] = [1, 5, 6, 7, 8, 20, 21]
            _ = try engine.step([.init(slot: 0, tokens: first, wantsLogits: true)])
            XCTAssertEqual(engine.commonPrefix(slot: 0, with: second), 5)
            engine.rewind(slot: 0, to: 5)
            XCTAssertEqual(engine.position(slot: 0), 5)
            let reused = try Array(XCTUnwrap(engine.step([.init(slot: 0, tokens: Array(second[5...]), wantsLogits: true)])[0]))
            let fresh = try Array(XCTUnwrap(engine.step([.init(slot: 1, tokens: second, wantsLogits: true)])[0]))
            // The same rows in batches of other shapes: every product is bit-identical whatever the batch, so the
            // logits are too.
            XCTAssertEqual(reused, fresh, name)
        }
    }

    func testBadStepsAreRefused() throws {
        let model = try load("llama-q8_0")
        let engine = try BatchEngine(model: model, slots: 2, contextLength: 8, batchCapacity: 4, threads: 1)
        XCTAssertThrowsError(try engine.step([.init(slot: 0, tokens: [1, 2, 3, 4, 5], wantsLogits: true)]))
        XCTAssertThrowsError(try engine.step([.init(slot: 2, tokens: [1], wantsLogits: true)]))
        XCTAssertThrowsError(try engine.step([.init(slot: 0, tokens: [1], wantsLogits: true), .init(slot: 0, tokens: [2], wantsLogits: true)]))
        XCTAssertThrowsError(try engine.step([.init(slot: 0, tokens: [-1], wantsLogits: true)]))
        XCTAssertThrowsError(try engine.step([.init(slot: 1, tokens: [], wantsLogits: true)]))
        _ = try engine.step([.init(slot: 0, tokens: [1, 2, 3, 4], wantsLogits: false)])
        _ = try engine.step([.init(slot: 0, tokens: [1, 2, 3, 4], wantsLogits: false)])
        XCTAssertThrowsError(try engine.step([.init(slot: 0, tokens: [1], wantsLogits: true)]), "context full")
        XCTAssertThrowsError(try BatchEngine(model: model, slots: 4, contextLength: 8, batchCapacity: 2, threads: 1))
    }
}
