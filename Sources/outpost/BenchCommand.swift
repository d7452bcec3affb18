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
        /// Generation where each next token comes from the logits: greedy (argmax), and sampled with llama-server's
        /// default chain (temperature 0.8, top-k 40, top-p 0.95, min-p 0.05).
        let greedyTPS: Double
        let sampledTPS: Double
        /// Microseconds one sampled token costs (the chain alone, on real logits), and its share of a decode step.
        let sampleMicroseconds: Double
        let sampleShareOfStep: Double
        /// Weight bytes a decode step reads (every tensor; the token embeddings only when the output reuses them),
        /// and the read rate that makes at the random-token generation speed.
        let weightBytesPerToken: Int
        let weightReadGBps: Double
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
            case greedyTPS = "gen_greedy_tps"
            case sampledTPS = "gen_sampled_tps"
            case sampleMicroseconds = "sample_us"
            case sampleShareOfStep = "sample_share_of_step"
            case weightBytesPerToken = "weight_bytes_per_token"
            case weightReadGBps = "weight_read_gbps"
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
        var greedyRuns: [Double] = []
        var sampledRuns: [Double] = []
        var sampler = try Sampler(Self.serverDefaults)
        /// G tokens one at a time from an empty cache, each chosen from the logits of the one before.
        func generate(_ choose: (UnsafeBufferPointer<Float>, [Int32]) throws -> Int32) throws -> Double {
            context.rewind(to: 0)
            var history = [nextToken()]
            let start = Clock.monotonicNanoseconds()
            for _ in 0..<genTokens {
                let logits = try context.evaluate([history[history.count - 1]])
                history.append(try choose(logits, history))
            }
            return Double(genTokens) / (Double(Clock.monotonicNanoseconds() - start) / 1e9)
        }
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
                let greedy = try generate { logits, _ in Sampler.argmax(logits) }
                let sampled = try generate { logits, history in try sampler.sample(logits, history: history) }
                if round > 0 {
                    greedyRuns.append(greedy)
                    sampledRuns.append(sampled)
                }
            }
            if round > 0 && !arguments.has("json") {
                printError("run \(round)/\(repetitions): pp \(promptRuns.last?.fixed(1) ?? "-") tok/s, tg \(genRuns.last?.fixed(1) ?? "-") tok/s "
                           + "(greedy \(greedyRuns.last?.fixed(1) ?? "-"), sampled \(sampledRuns.last?.fixed(1) ?? "-"))")
            }
        }
        // The chain alone on real logits: many draws from the last step's logits.
        var sampleMicroseconds = 0.0
        if genTokens > 0 {
            context.rewind(to: 0)
            let logits = Array(try context.evaluate([nextToken()]))
            let draws = 2000
            let start = Clock.monotonicNanoseconds()
            try logits.withUnsafeBufferPointer { buffer in
                for _ in 0..<draws { _ = try sampler.sample(buffer, history: []) }
            }
            sampleMicroseconds = Double(Clock.monotonicNanoseconds() - start) / 1e3 / Double(draws)
        }
        let stepMicroseconds = genRuns.isEmpty ? 0 : 1e6 / mean(genRuns)
        let tied = !file.gguf.tensors.contains { $0.name == "output.weight" }
        let weightBytes = file.gguf.tensors.reduce(0) { sum, tensor in
            tensor.name == "token_embd.weight" && !tied ? sum + tensor.rowBytes : sum + tensor.byteCount
        }
        let report = Report(model: path, architecture: model.info.architecture, threads: threads, promptTokens: promptTokens,
                            genTokens: genTokens, repetitions: repetitions, promptTPS: mean(promptRuns), genTPS: mean(genRuns),
                            promptTPSRuns: promptRuns, genTPSRuns: genRuns, greedyTPS: mean(greedyRuns), sampledTPS: mean(sampledRuns),
                            sampleMicroseconds: sampleMicroseconds,
                            sampleShareOfStep: stepMicroseconds > 0 ? sampleMicroseconds / stepMicroseconds : 0,
                            weightBytesPerToken: weightBytes, weightReadGBps: Double(weightBytes) * mean(genRuns) / 1e9,
                            peakRSSBytes: ProcessStats.peakResidentMemoryBytes(), kernels: Kernels.tier.name)
        if arguments.has("json") {
            print(JSONWriter.encode(report))
        } else {
            print("model: \(path) (\(model.info.architecture)), threads: \(threads), kernels: \(report.kernels)")
            print("pp\(promptTokens): \(report.promptTPS.fixed(2)) tok/s   tg\(genTokens): \(report.genTPS.fixed(2)) tok/s   peak RSS: \((Double(report.peakRSSBytes) / 1_048_576).fixed(1)) MiB")
            if genTokens > 0 {
                print("tg\(genTokens) choosing each token: greedy \(report.greedyTPS.fixed(2)) tok/s, sampled \(report.sampledTPS.fixed(2)) tok/s "
                      + "(temperature 0.8, top-k 40, top-p 0.95, min-p 0.05); one sampled token costs \(sampleMicroseconds.fixed(1)) µs, "
                      + "\((report.sampleShareOfStep * 100).fixed(2))% of a decode step")
                print("a decode step reads \((Double(weightBytes) / 1e6).fixed(1)) MB of weights: \(report.weightReadGBps.fixed(1)) GB/s at tg\(genTokens) "
                      + "(set it beside bench/read_bandwidth.c)")
            }
        }
        return 0
    }

    /// llama-server's default sampling, which OpenAI clients get when they set nothing else.
    static var serverDefaults: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0.8
        p.topK = 40
        p.topP = 0.95
        p.minP = 0.05
        p.seed = 0x5eed
        return p
    }

    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }
}
