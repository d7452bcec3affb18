// llama.cpp's fix-ups of special tokens by their text: EOT/EOM/FIM ids, "unused" tokens, the end-of-generation
// set, and per-model strip attributes. Converters do not always record these in the GGUF, so llama.cpp (and we)
// recognise them by spelling.

extension Vocabulary {
    mutating func detectSpecialTokensByText() {
        // The first token (by id) with one of these texts fills a role the file left empty, and becomes control.
        let roles: [(WritableKeyPath<SpecialTokenIDs, Int32>, Set<String>)] = [
            (\.eot, Self.endOfTurnTexts), (\.eom, ["<|eom_id|>"]), (\.fimPrefix, Self.fimPrefixTexts),
            (\.fimSuffix, Self.fimSuffixTexts), (\.fimMiddle, Self.fimMiddleTexts), (\.fimPad, Self.fimPadTexts),
            (\.fimRepo, Self.fimRepoTexts), (\.fimSeparator, ["<|file_sep|>"]),
        ]
        for (path, texts) in roles where ids[keyPath: path] < 0 {
            if let id = firstToken(in: texts) {
                ids[keyPath: path] = id
                attributes[Int(id)].insert(.control)
            }
        }

        // Control tokens whose text says "unused" are unused.
        for id in 0..<count where attributes[id].contains(.control) {
            if Self.bytes(Array(text(Int32(id))), contain: "unused") { attributes[id].insert(.unused) }
        }

        var endOfGeneration: Set<Int32> = []
        for id in [ids.fimPad, ids.fimRepo, ids.fimSeparator] where id >= 0 { endOfGeneration.insert(id) }
        for text in Self.endOfGenerationTexts {
            guard let id = firstToken(in: [text]) else { continue }
            endOfGeneration.insert(id)
            attributes[Int(id)].insert(.control)
        }
        // gpt-oss renders these in its output.
        for text in Self.alwaysRenderedTexts {
            if let id = firstToken(in: [text]) { attributes[Int(id)] = .userDefined }
        }
        for id in [ids.eos, ids.eot, ids.eom] where id >= 0 { endOfGeneration.insert(id) }

        // o200k_harmony and solar-open: "<|end|>" ends a message, not generation, when "<|return|>" and "<|call|>"
        // (or "<|calls|>" and "<|flush|>") exist.
        let eogTexts = Dictionary(endOfGeneration.map { (textString($0), $0) }, uniquingKeysWith: min)
        let hasCall = eogTexts["<|call|>"] != nil || eogTexts["<|calls|>"] != nil
        if let end = eogTexts["<|end|>"], hasCall, eogTexts["<|return|>"] != nil || eogTexts["<|flush|>"] != nil {
            endOfGeneration.remove(end)
            attributes[Int(end)] = .userDefined
        }
        // Gemma 4 and PLaMo have an ordinary "</s>".
        if let closing = eogTexts["</s>"], eogTexts["<|tool_response>"] != nil || eogTexts["<|plamo:eos|>"] != nil {
            endOfGeneration.remove(closing)
            attributes[Int(closing)] = .normal
        }
        self.endOfGeneration = endOfGeneration
    }

    /// llama.cpp's per-model attributes, chosen by general.name (lowercased), tokenizer.ggml.pre and
    /// general.architecture.
    mutating func applyModelAttributes(modelName: String, preName: String, architecture: String) {
        // llama.cpp lowercases with std::tolower in the C locale: ASCII letters only.
        let name = Array(modelName.utf8).map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 0x20 : $0 }
        let pre = Array(preName.utf8)
        let arch = Array(architecture.utf8)
        if ["jina-v2-de", "jina-v2-es", "jina-v2-code"].contains(where: { Self.bytes(pre, contain: $0) })
            || ["nomic-bert-moe", "jina-bert-v3"].contains(where: { Self.bytes(arch, contain: $0) })
        {
            if let mask = firstToken(in: ["<mask>"]) { attributes[Int(mask)].insert(.leftStrip) }
        } else if Self.bytes(name, contain: "phi-3") || Self.bytes(name, contain: "phi3") {
            for id in partitionOrder { attributes[Int(id)].insert(.rightStrip) }
            if let id = firstToken(in: ["</s>"]) { attributes[Int(id)].insert(.rightStrip) }
            for text in ["<unk>", "<s>", "<|endoftext|>"] {
                if let id = firstToken(in: [text]) { attributes[Int(id)].remove(.rightStrip) }
            }
        } else if Self.bytes(name, contain: "modern-bert") {
            if let mask = firstToken(in: ["[MASK]"]) { attributes[Int(mask)].insert(.leftStrip) }
        }
    }

    /// Byte substring search, as C's strstr and std::string::find do it (no Unicode equivalence).
    private static func bytes(_ haystack: [UInt8], contain needle: String) -> Bool {
        let needle = Array(needle.utf8)
        guard needle.count <= haystack.count else { return false }
        return (0...(haystack.count - needle.count)).contains { start in
            haystack[start..<(start + needle.count)].elementsEqual(needle)
        }
    }

    private func firstToken(in texts: Set<String>) -> Int32? {
        // Token texts are unique, so at most one id per text; scanning candidates beats scanning the vocabulary.
        var best: Int32?
        for text in texts {
            let id = self.texts.value(Array(text.utf8))
            if id >= 0 && (best == nil || id < best!) { best = id }
        }
        return best
    }

    private static let endOfTurnTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>", "<EOT>", "_<EOT>",
        "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    private static let fimPrefixTexts: Set<String> = [
        "<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>",
        "<|prefix|>",
    ]
    private static let fimSuffixTexts: Set<String> = [
        "<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>",
        "<|suffix|>",
    ]
    private static let fimMiddleTexts: Set<String> = [
        "<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>",
        "<|middle|>",
    ]
    private static let fimPadTexts: Set<String> = ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"]
    private static let fimRepoTexts: Set<String> = [
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>",
    ]
    private static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
        "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
        "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
    ]
    private static let alwaysRenderedTexts: Set<String> = ["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]
}
