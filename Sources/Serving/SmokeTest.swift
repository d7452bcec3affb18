// The smoke test a bundle carries: a prompt and the greedy text a build of Outpost produced for it. The bundle
// tools record it at creation; a site runs the same function before activating a bundle. Greedy decoding is
// bit-identical across kernel tiers, thread counts and machines, so the text must come back exactly.
import Inference
import Platform

public enum SmokeTest {
    /// The greedy continuation of `prompt` (raw text, special tokens parsed, BOS as the model adds it), at most
    /// `maxTokens` tokens, stopping at end of generation.
    public static func greedyText(_ file: ModelFile, prompt: String, maxTokens: Int, threads: Int) throws -> String {
        let tokenizer = try file.tokenizer()
        let model = try file.model()
        let tokens = tokenizer.encode(prompt, addSpecial: true, parseSpecial: true)
        let contextLength = min(model.info.trainedContextLength, tokens.count + maxTokens + 1)
        guard tokens.count + maxTokens < model.info.trainedContextLength else {
            throw ServingError("the smoke prompt (\(tokens.count) tokens) and \(maxTokens) tokens do not fit the model's context")
        }
        let context = try InferenceContext(model: model, contextLength: contextLength, batchCapacity: 64, threads: threads)
        let generator = Generator(context: context, tokenizer: tokenizer, clock: Clock.monotonicNanoseconds)
        var options = GenerationOptions()
        options.maxTokens = maxTokens
        options.sampling.temperature = 0
        return try generator.generate(prompt: tokens, options: options) { _ in true }.text
    }
}
