// Sampling settings, validated when made so that generation never sees a nonsensical value.

public struct SamplingParameters: Sendable, Hashable {
    /// 0 means greedy (argmax).
    public var temperature: Float = 0.8
    /// 0 disables.
    public var topK: Int = 40
    /// 1 disables.
    public var topP: Float = 0.95
    /// 0 disables.
    public var minP: Float = 0.05
    /// 1 disables.
    public var repeatPenalty: Float = 1.0
    public var presencePenalty: Float = 0
    public var frequencyPenalty: Float = 0
    /// How many recent tokens the penalties look at.
    public var penaltyWindow: Int = 64
    public var seed: UInt64?

    public init() {}

    public static var greedy: SamplingParameters {
        var p = SamplingParameters()
        p.temperature = 0
        return p
    }

    public func validated() throws(ModelError) -> SamplingParameters {
        guard temperature.isFinite, temperature >= 0, temperature <= 100 else {
            throw ModelError("temperature must be between 0 and 100, got \(temperature)")
        }
        guard topK >= 0 else { throw ModelError("top_k must be 0 (off) or positive, got \(topK)") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw ModelError("top_p must be in (0, 1], got \(topP)") }
        guard minP.isFinite, minP >= 0, minP <= 1 else { throw ModelError("min_p must be in [0, 1], got \(minP)") }
        guard repeatPenalty.isFinite, repeatPenalty > 0, repeatPenalty <= 10 else {
            throw ModelError("repeat_penalty must be in (0, 10], got \(repeatPenalty)")
        }
        guard presencePenalty.isFinite, abs(presencePenalty) <= 2 else {
            throw ModelError("presence_penalty must be between -2 and 2, got \(presencePenalty)")
        }
        guard frequencyPenalty.isFinite, abs(frequencyPenalty) <= 2 else {
            throw ModelError("frequency_penalty must be between -2 and 2, got \(frequencyPenalty)")
        }
        guard penaltyWindow >= 0, penaltyWindow <= 1 << 20 else {
            throw ModelError("penalty window must be between 0 and 1048576, got \(penaltyWindow)")
        }
        return self
    }
}
