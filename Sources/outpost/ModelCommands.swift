// `outpost run`, `tokenize`, `perplexity` and `inspect`: working on a GGUF file directly, no agent needed.
import Arguments
import GGUF
import Inference
import JSON
import Platform
import Serving
import Tokenizer

struct RunResult: Encodable {
    let text: String
    let tokens: [Int32]
    let finishReason: String
    let promptTokens: Int
    let promptTokensPerSecond: Double
    let generationTokensPerSecond: Double
    enum CodingKeys: String, CodingKey {
        case text, tokens
        case finishReason = "finish_reason"
        case promptTokens = "prompt_tokens"
        case promptTokensPerSecond = "prompt_tokens_per_second"
        case generationTokensPerSecond = "generation_tokens_per_second"
    }
}

public enum ModelCommands {
    public static func run(_ arguments: Arguments) throws -> Int32 {
        guard let path = arguments.value("model") else { throw UsageError("--model FILE is required") }
        guard let prompt = arguments.value("prompt") else { throw UsageError("--prompt TEXT is required") }
        let options = try RunOptions(arguments)
        var generation = GenerationOptions()
        generation.maxTokens = try arguments.integer("max-tokens") ?? 128
        if let t = try arguments.double("temperature") { generation.sampling.temperature = Float(t) }
        if let k = try arguments.integer("top-k") { generation.sampling.topK = k }
        if let p = try arguments.double("top-p") { generation.sampling.topP = Float(p) }
        if let p = try arguments.double("min-p") { generation.sampling.minP = Float(p) }
        if let r = try arguments.double("repeat-penalty") { generation.sampling.repeatPenalty = Float(r) }
        if let seed = arguments.value("seed") {
            guard let value = UInt64(seed) else { throw UsageError("--seed expects a non-negative integer, got '\(seed)'") }
            generation.sampling.seed = value
        }
        generation.stop = arguments.values["stop"] ?? []

        let file = try ModelFile(path: path)
        let tokenizer = try file.tokenizer()
        let model = try file.model()
        var text = prompt
        if arguments.has("chat") {
            let template = try ChatTemplate.detect(gguf: file.gguf)
            text = template.render([ChatMessage(role: "user", content: prompt)], addGenerationPrompt: true)
        }
        // Special-token text in a raw prompt is parsed, as llama.cpp's tools do.
        let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        let contextLength = options.contextLength ?? min(model.info.trainedContextLength, max(512, tokens.count + generation.maxTokens))
        let context = try InferenceContext(model: model, contextLength: contextLength, batchCapacity: options.batch,
                                           threads: options.threads)
        let generator = Generator(context: context, tokenizer: tokenizer, clock: Clock.monotonicNanoseconds)
        let json = arguments.has("json")
        let result = try generator.generate(prompt: tokens, options: generation) { piece in
            if !json { try? FileDescriptor.standardOutput.writeAll(piece) }
            return true
        }
        let promptSeconds = Double(result.promptNanoseconds) / 1e9
        let genSeconds = Double(result.generationNanoseconds) / 1e9
        let promptRate = Double(result.promptTokens) / max(promptSeconds, 1e-9)
        let genRate = Double(result.tokens.count) / max(genSeconds, 1e-9)
        if json {
            print(JSONWriter.encode(RunResult(text: result.text, tokens: result.tokens, finishReason: result.finishReason.rawValue,
                                             promptTokens: result.promptTokens, promptTokensPerSecond: promptRate,
                                             generationTokensPerSecond: genRate)))
        } else {
            try? FileDescriptor.standardOutput.writeAll("\n")
        }
        printError("prompt: \(result.promptTokens) tokens in \(promptSeconds.fixed(3)) s (\(promptRate.fixed(1)) tok/s); "
                   + "generation: \(result.tokens.count) tokens in \(genSeconds.fixed(3)) s (\(genRate.fixed(1)) tok/s); "
                   + "finish: \(result.finishReason.rawValue)")
        return 0
    }

    public static func tokenize(_ arguments: Arguments) throws -> Int32 {
        guard let path = arguments.value("model") else { throw UsageError("--model FILE is required") }
        let text: String
        switch (arguments.value("text"), arguments.value("file")) {
        case (let given?, nil):
            text = given
        case (nil, let textPath?):
            do {
                text = try ProcessStats.readSmallFile(textPath, limit: 64 << 20)
            } catch {
                throw CLIError("cannot read \(textPath): \(error)")
            }
        case (nil, nil): throw UsageError("--text TEXT or --file FILE is required")
        case (_?, _?): throw UsageError("give --text or --file, not both")
        }
        let file = try ModelFile(path: path)
        let tokenizer = try file.tokenizer()
        let started = Clock.monotonicNanoseconds()
        let ids = tokenizer.encode(text, addSpecial: !arguments.has("no-bos"), parseSpecial: !arguments.has("no-parse-special"))
        let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
        print("[" + ids.map(String.init).joined(separator: ", ") + "]")
        if arguments.has("time") {
            printError("tokenize: \(text.utf8.count) bytes -> \(ids.count) tokens in \((seconds * 1000).fixed(3)) ms")
        }
        return 0
    }

    public static func perplexity(_ arguments: Arguments) throws -> Int32 {
        guard let path = arguments.value("model") else { throw UsageError("--model FILE is required") }
        if arguments.has("kl-divergence") { return try klDivergence(arguments, model: path) }
        if arguments.value("kl-divergence-base") != nil {
            throw UsageError("--kl-divergence-base FILE is read with --kl-divergence (writing a base file is llama-perplexity's job)")
        }
        guard let textPath = arguments.value("file") else { throw UsageError("--file TEXT is required") }
        let options = try RunOptions(arguments)
        let text: String
        do {
            text = try ProcessStats.readSmallFile(textPath, limit: 64 << 20)
        } catch {
            throw CLIError("cannot read \(textPath): \(error)")
        }
        let file = try ModelFile(path: path)
        let tokenizer = try file.tokenizer()
        let model = try file.model()
        let tokens = tokenizer.encode(text, addSpecial: true, parseSpecial: false)
        let contextLength = options.contextLength ?? 512
        let context = try InferenceContext(model: model, contextLength: contextLength, batchCapacity: options.batch,
                                           threads: options.threads, allLogits: true)
        printError("perplexity: \(tokens.count) tokens, \(tokens.count / contextLength) chunk(s) of \(contextLength)")
        let started = Clock.monotonicNanoseconds()
        let result = try Perplexity.compute(context: context, tokens: tokens, bos: tokenizer.addsBOS ? tokenizer.bosToken : nil) {
            chunk, total, running in
            printError("[\(chunk)/\(total)] \(running.fixed(4))")
        }
        let seconds = Double(Clock.monotonicNanoseconds() - started) / 1e9
        printError("scored \(result.scoredTokens) tokens in \(seconds.fixed(2)) s")
        print("perplexity: \(result.perplexity.fixed(4))")
        return 0
    }

    /// `--kl-divergence --kl-divergence-base FILE`: llama-perplexity's KL-divergence statistics against the base
    /// log-probabilities in FILE, over the chunks and tokens recorded there.
    static func klDivergence(_ arguments: Arguments, model path: String) throws -> Int32 {
        guard let basePath = arguments.value("kl-divergence-base") else {
            throw UsageError("--kl-divergence needs --kl-divergence-base FILE (written by llama-perplexity --kl-divergence-base)")
        }
        if arguments.value("file") != nil { throw UsageError("--kl-divergence takes its tokens from the base file; drop --file") }
        let options = try RunOptions(arguments)
        let mapping: MappedFile
        do {
            mapping = try MappedFile(path: basePath)
        } catch {
            throw CLIError("cannot open \(basePath): \(error)")
        }
        let bytes = mapping.bytes
        let base = try KLDivergenceBase(bytes, file: basePath)
        if let asked = options.contextLength, asked != base.contextLength {
            throw UsageError("--ctx \(asked) differs from the base file's chunks of \(base.contextLength) tokens")
        }
        let file = try ModelFile(path: path)
        let tokenizer = try file.tokenizer()
        let context = try InferenceContext(model: try file.model(), contextLength: base.contextLength, batchCapacity: options.batch,
                                           threads: options.threads, allLogits: true)
        printError("kl-divergence: \(base.chunks) chunk(s) of \(base.contextLength) tokens, vocabulary \(base.vocabularySize)")
        let result = try KLDivergence.compute(context: context, base: base, bytes: bytes,
                                              bos: tokenizer.addsBOS ? tokenizer.bosToken : nil) { done, total, running in
            let (kld, uncertainty) = running.meanKLD
            printError("[\(done)/\(total)] mean KLD \(kld.fixed(6)) ± \(uncertainty.fixed(6)), same top \((running.sameTopFraction.0 * 100).fixed(3))%")
        }
        print(Self.report(result))
        return 0
    }

    /// The statistics block llama-perplexity prints, with the same names.
    static func report(_ r: KLDivergenceResult) -> String {
        func pm(_ value: (Double, Double), _ digits: Int = 6) -> String { "\(value.0.fixed(digits)) ± \(value.1.fixed(digits))" }
        func percent(_ value: (Double, Double)) -> String { "\((100 * value.0).fixed(3)) ± \((100 * value.1).fixed(3)) %" }
        let ppl = r.perplexity, base = r.perplexityBase
        let k = r.kldValues
        let p = r.pDiffValues
        let median = k.isEmpty ? 0 : (k.count % 2 == 0 ? 0.5 * (k[k.count / 2] + k[k.count / 2 - 1]) : k[k.count / 2])
        func kp(_ f: Float) -> String { Double(KLDivergenceResult.percentile(k, f)).fixed(6) }
        func dp(_ f: Float) -> String { (100 * Double(KLDivergenceResult.percentile(p, f))).fixed(3) }
        return """
            ====== Perplexity statistics ======
            Mean PPL(Q)                   : \(pm(ppl))
            Mean PPL(base)                : \(pm(base))
            Mean ln(PPL(Q)/PPL(base))     : \((r.logPerplexity.0 - r.logPerplexityBase.0).fixed(6))

            ====== KL divergence statistics ======
            Mean    KLD: \(pm(r.meanKLD))
            Maximum KLD: \(Double(k.last ?? 0).fixed(6))
            99.9%   KLD: \(kp(0.999))
            99.0%   KLD: \(kp(0.990))
            95.0%   KLD: \(kp(0.950))
            90.0%   KLD: \(kp(0.900))
            Median  KLD: \(Double(median).fixed(6))
            10.0%   KLD: \(kp(0.100))
             5.0%   KLD: \(kp(0.050))
             1.0%   KLD: \(kp(0.010))
             0.1%   KLD: \(kp(0.001))
            Minimum KLD: \(Double(k.first ?? 0).fixed(6))

            ====== Token probability statistics ======
            Mean    Δp: \(percent(r.meanPDiff))
            Maximum Δp: \((100 * Double(p.last ?? 0)).fixed(3))%
            99.9%   Δp: \(dp(0.999))%
            99.0%   Δp: \(dp(0.990))%
            Median  Δp: \(dp(0.5))%
             1.0%   Δp: \(dp(0.010))%
            Minimum Δp: \((100 * Double(p.first ?? 0)).fixed(3))%
            RMS Δp    : \(percent(r.rmsPDiff))
            Same top p: \(percent(r.sameTopFraction))
            """
    }
}
