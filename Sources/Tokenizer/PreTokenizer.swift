// Which word-splitting rules a byte-level BPE vocabulary uses, chosen by `tokenizer.ggml.pre` as llama.cpp does.

/// The pre-tokenizer regexes llama.cpp applies before BPE merges; each case names the llama.cpp regex set it
/// reproduces (see PreTokenizer+Split.swift for the scanners).
enum PreTokenizer: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)` (GPT-2).
    case gpt2
    /// The Llama 3 regex: contractions (any case), `[^\r\n\p{L}\p{N}]?\p{L}+`, `\p{N}{1,3}`, punctuation runs
    /// with trailing newlines, newline runs, whitespace.
    case llama3
    /// Qwen 2: the Llama 3 regex with single digits (`\p{N}`).
    case qwen2
    /// SmolLM / StarCoder: every digit isolated (`\p{N}`), then GPT-2.
    case smollm
    /// llama.cpp's fallback for `default` or a missing pre-tokenizer: punctuation runs `[\p{P}$+<=>^~|]+`,
    /// then GPT-2, then digit runs `\p{N}+`, then groups of three ASCII digits.
    case `default`
}

/// A BPE vocabulary's pre-tokenizer with the tokenizer flags llama.cpp sets alongside it.
struct PreTokenizerConfiguration: Sendable, Equatable {
    var splitter: PreTokenizer
    /// Whether decoding applies clean_up_tokenization_spaces (" ." → ".", " 's" → "'s", ...).
    var cleanSpaces = true
    /// Whether a whole word that is already a token skips the merges (Llama 3 and relatives).
    var ignoreMerges = false
    /// llama.cpp's default for add_bos before `tokenizer.ggml.add_bos_token` is read.
    var addsBOS = false

    /// The configuration llama.cpp's `llama_vocab::impl::load` gives `name`, or nil for pre-tokenizers whose
    /// regexes are not implemented here.
    init?(name: String) {
        switch name {
        case "", "default":
            splitter = .default
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano":
            splitter = .llama3
            ignoreMerges = true
            addsBOS = true
        case "dbrx", "smaug-bpe":
            splitter = .llama3
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0", "mellum",
            "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais", "exaone4":
            splitter = .gpt2
        case "trillion", "granite-docling":
            splitter = .gpt2
            cleanSpaces = false
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "hunyuan", "solar-open":
            splitter = .qwen2
            cleanSpaces = false
        case "stablelm2", "megrez":
            splitter = .qwen2
        case "starcoder", "refact", "codeshell", "exaone", "minerva-7b", "mellum2":
            splitter = .smollm
        case "smollm", "command-r":
            splitter = .smollm
            cleanSpaces = false
        default:
            return nil
        }
    }
}
