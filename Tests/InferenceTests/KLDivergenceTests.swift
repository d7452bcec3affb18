// KL divergence against llama.cpp's own base file (tests/fixtures/make_kld_fixtures.py): our figures for each tiny
// model beside llama-perplexity's for the same model, base and chunks; and base files that are broken or belong to
// another model refused with a message that says which.
import Foundation
import GGUF
import TestKit
import Tokenizer
import XCTest
@testable import Inference

final class KLDivergenceTests: XCTestCase {
    struct Stats: Decodable {
        struct Compared: Decodable {
            let model: String
            let batch: Int
            let mean_kld: Double
            let kld_99: Double
            let same_top_percent: Double
            let mean_delta_p_percent: Double
            let ppl_q: Double
            let ppl_base: Double
        }
        let compared: [Compared]
    }

    private func base() throws -> [UInt8] { [UInt8](try Data(contentsOf: Fixtures.url("kld/llama-f32.base"))) }

    private func run(_ model: String, base bytes: [UInt8], batch: Int = 64) throws -> KLDivergenceResult {
        let gguf = try GGUFFile(bytes: [UInt8](Data(contentsOf: Fixtures.url("tiny/\(model)"))))
        let tokenizer = try Tokenizer(gguf: gguf)
        return try bytes.withUnsafeBytes { raw in
            let base = try KLDivergenceBase(raw, file: "llama-f32.base")
            let context = try InferenceContext(model: try ModelLoader.load(gguf), contextLength: base.contextLength,
                                               batchCapacity: batch, threads: 2, allLogits: true)
            return try KLDivergence.compute(context: context, base: base, bytes: raw, bos: tokenizer.addsBOS ? tokenizer.bosToken : nil)
        }
    }

    func testOurFiguresBesideLlamaCppsForEachModel() throws {
        let stats = try JSONDecoder().decode(Stats.self, from: Data(contentsOf: Fixtures.url("kld/stats.json")))
        let bytes = try base()
        for reference in stats.compared where reference.batch == 64 {
            let ours = try run(reference.model, base: bytes)
            let name = reference.model
            XCTAssertGreaterThan(ours.count, 100, name)
            // PPL(base) comes from the file alone: it must be llama.cpp's to the printed digits.
            XCTAssertEqual(ours.perplexityBase.0, reference.ppl_base, accuracy: 1e-5 * reference.ppl_base, name)
            XCTAssertEqual(ours.perplexity.0, reference.ppl_q, accuracy: 3e-3 * reference.ppl_q, name)  // as TinyModelTests
            // Our logits differ from llama.cpp's by rounding only: the divergence from the base is theirs, within
            // a small fraction of itself (or of the base file's own quantisation for the f32 model itself).
            XCTAssertEqual(ours.meanKLD.0, reference.mean_kld, accuracy: max(2e-5, 0.05 * reference.mean_kld),
                           "\(name): mean KLD ours \(ours.meanKLD.0), llama.cpp \(reference.mean_kld)")
            XCTAssertEqual(Double(KLDivergenceResult.percentile(ours.kldValues, 0.99)), reference.kld_99,
                           accuracy: max(1e-4, 0.1 * reference.kld_99), name)
            XCTAssertEqual(100 * ours.sameTopFraction.0, reference.same_top_percent, accuracy: 2, name)
            XCTAssertEqual(100 * ours.meanPDiff.0, reference.mean_delta_p_percent, accuracy: 0.05, name)
        }
    }

    func testBatchSizeDoesNotChangeOurLogits() throws {
        let bytes = try base()
        let whole = try run("llama-q4_0.gguf", base: bytes, batch: 64)
        let small = try run("llama-q4_0.gguf", base: bytes, batch: 8)
        XCTAssertEqual(whole.kldValues, small.kldValues, "our logits must be the same bits at any batch size")
    }

    func testBrokenOrForeignBaseFilesAreRefused() throws {
        let bytes = try base()
        func message(_ data: [UInt8]) -> String {
            do {
                _ = try data.withUnsafeBytes { try KLDivergenceBase($0, file: "b.kld") }
                return "accepted"
            } catch {
                return (error as? ModelError)?.message ?? "\(error)"
            }
        }
        XCTAssertEqual(message(Array("not a base file".utf8)),
                       "b.kld is not a llama.cpp log-probability file (written by llama-perplexity --kl-divergence-base): it does not start with \"_logits_\"")
        XCTAssertTrue(message(Array(bytes.dropLast(10))).hasPrefix("b.kld is truncated: "), message(Array(bytes.dropLast(10))))
        var zeroVocabulary = bytes
        zeroVocabulary.replaceSubrange(12..<16, with: [0, 0, 0, 0])
        XCTAssertTrue(message(zeroVocabulary).contains("implausible header"))
        // A vocabulary of 301 instead of 300: a base for another model.
        var foreign = bytes
        foreign.replaceSubrange(12..<16, with: [45, 1, 0, 0])
        foreign += [UInt8](repeating: 0, count: 1 << 20)
        XCTAssertThrowsError(try run("llama-q4_0.gguf", base: foreign)) { error in
            XCTAssertTrue("\(error)".contains("vocabulary has 301 tokens, this model's 300"), "\(error)")
        }
    }
}
