// `outpost bench`: prompt-processing and generation throughput, defined as llama-bench defines them. The report names
// the kernel tier that ran ("kernels"); OUTPOST_KERNELS=scalar|avx2|avx-vnni|avx512-vnni caps it, to compare tiers.
import Arguments
import GGUF
import Inference
import JSON
import Kernels
import Platform
import Serving

public enum BenchCommand {
    struct Report: Encodable {
        let model: String
        let architecture: String
        let threads: Int
        let promptTokens: Int
        let genTokens: Int
        let repetitions: Int
        let promptTPS: Double
        let genTPS: Double
        let promptTPSRuns: [Double]
        let genTPSRuns: [Double]
        let peakRSSBytes: Int
        let kernels: String
        enum CodingKeys: String, CodingKey {
            case model, architecture, threads, repetitions, kernels
            case promptTokens = "prompt_tokens"
            case genTokens = "gen_tokens"
            case promptTPS = "prompt_tps"
            case genTPS = "gen_tps"
            case promptTPSRuns = "prompt_tps_runs"
            case genTPSRuns = "gen_tps_runs"
            case peakRSSBytes = "peak_rss_bytes"
        }
    }

    /// P random tokens in one batch from an empty cache; then G tokens one at a time from an empty cache.
    public static func run(_ arguments: Arguments) throws -> Int32 {
        guard let path = arguments.value("model") else { throw UsageError("--model FILE is required") }
        let threads = try arguments.integer("threads") ?? SystemInfo.cpuCount
        let promptTokens = try arguments.integer("prompt-tokens") ?? 512
        let genTokens = try arguments.integer("gen-tokens") ?? 128
        let repetitions = try arguments.integer("repetitions") ?? 3
        guard threads >= 1 && threads <= 256 else { throw UsageError("--threads must be between 1 and 256") }
        guard promptTokens >= 0, genTokens >= 0, promptTokens + genTokens > 0 else {
            throw UsageError("--prompt-tokens and --gen-tokens must not be negative, and not both 0")
        }
        guard repetitions >= 1 && repetitions <= 100 else { throw UsageError("--repetitions must be between 1 and 100") }
        if let name = ProcessStats.environment("OUTPOST_KERNELS") {
            guard let tier = KernelTier(name: name) else {
                let names = KernelTier.allCases.map(\.name).joined(separator: ", ")
                throw UsageError("OUTPOST_KERNELS=\(name) names no kernel tier; tiers: \(names)")
            }
            Kernels.limitTier(to: tier)
        }
        let file = try ModelFile(path: path)
        let model = try file.model()
        let vocab = model.info.vocabularySize
        let context = try InferenceContext(model: model, contextLength: max(promptTokens, genTokens + 1),
                                           batchCapacity: max(1, promptTokens), threads: threads)
        var random = UInt64(0x5eed)
        func nextToken() -> Int32 {
            random = random &* 6364136223846793005 &+ 1442695040888963407
            return Int32((random >> 33) % UInt64(vocab))
        }
        var promptRuns: [Double] = []
        var genRuns: [Double] = []
        // One untimed warm-up of each, as llama-bench does.
        for round in 0...repetitions {
            if promptTokens > 0 {
                let tokens = (0..<promptTokens).map { _ in nextToken() }
                context.rewind(to: 0)
                let start = Clock.monotonicNanoseconds()
                _ = try context.evaluate(tokens)
                let seconds = Double(Clock.monotonicNanoseconds() - start) / 1e9
                if round > 0 { promptRuns.append(Double(promptTokens) / seconds) }
            }
            if genTokens > 0 {
                context.rewind(to: 0)
                var token = nextToken()
                let start = Clock.monotonicNanoseconds()
                for _ in 0..<genTokens {
                    _ = try context.evaluate([token])
                    token = nextToken()
                }
                let seconds = Double(Clock.monotonicNanoseconds() - start) / 1e9
                if round > 0 { genRuns.append(Double(genTokens) / seconds) }
            }
            if round > 0 && !arguments.has("json") {
                printError("run \(round)/\(repetitions): pp \(promptRuns.last?.fixed(1) ?? "-") tok/s, tg \(genRuns.last?.fixed(1) ?? "-") tok/s")
            }
        }
        let report = Report(model: path, architecture: model.info.architecture, threads: threads, promptTokens: promptTokens,
                            genTokens: genTokens, repetitions: repetitions, promptTPS: mean(promptRuns), genTPS: mean(genRuns),
                            promptTPSRuns: promptRuns, genTPSRuns: genRuns,
                            peakRSSBytes: ProcessStats.peakResidentMemoryBytes(), kernels: Kernels.tier.name)
        if arguments.has("json") {
            print(JSONWriter.encode(report))
        } else {
            print("model: \(path) (\(model.info.architecture)), threads: \(threads), kernels: \(report.kernels)")
            print("pp\(promptTokens): \(report.promptTPS.fixed(2)) tok/s   tg\(genTokens): \(report.genTPS.fixed(2)) tok/s   peak RSS: \((Double(report.peakRSSBytes) / 1_048_576).fixed(1)) MiB")
        }
        return 0
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
