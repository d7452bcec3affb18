// Caps on what a GGUF file may declare, so a hostile header cannot make the reader allocate or loop without bound.
// They sit far above anything a real model needs (Gemma 3's vocabulary is 262,144 strings of a few bytes each).

public enum GGUFLimits {
    /// Tensors in one file (a 405B-parameter model has a few thousand).
    public static let maxTensors = 1 << 20
    /// Metadata key/value pairs in one file.
    public static let maxMetadataEntries = 1 << 20
    /// Elements in one metadata array (vocabularies and merge lists are well under a million).
    public static let maxArrayElements = 1 << 24
    /// Levels of arrays: an array of arrays of scalars is accepted, one level more is not.
    public static let maxArrayDepth = 2
    /// Bytes in a metadata key.
    public static let maxKeyBytes = 1 << 16
    /// Bytes in a metadata string value (chat templates and embedded tokenizer JSON can run to megabytes).
    public static let maxStringBytes = 1 << 26
    /// Bytes in a tensor name: ggml keeps names in a 64-byte buffer with its terminating NUL.
    public static let maxTensorNameBytes = 63
    /// Dimensions of one tensor (ggml's GGML_MAX_DIMS).
    public static let maxDimensions = 4
    /// Alignment used when the file has no `general.alignment`.
    public static let defaultAlignment = 32
}
