// Building a Vocabulary from `tokenizer.ggml.*` metadata, step for step as llama.cpp's llama_vocab::impl::load.
import GGUF

extension Vocabulary {
    init(gguf: GGUFFile) throws(TokenizerError) {
        let modelName = try Self.read("tokenizer.ggml.model", gguf.string)
        let preName = try Self.read("tokenizer.ggml.pre", gguf.optionalString)

        // Model type and its defaults (llama.cpp sets these before reading the overrides).
        var defaults = SpecialTokenIDs()
        switch modelName {
        case "llama":
            kind = .sentencePiece
            defaults.bos = 1
            defaults.eos = 2
            defaults.unknown = 0
            addsSpacePrefix = true
            addsBOS = true
        case "gpt2":
            let name = preName ?? ""
            guard let configuration = PreTokenizerConfiguration(name: name) else {
                throw TokenizerError(
                    "tokenizer.ggml.pre",
                    "pre-tokenizer '\(name)' is not supported (supported: default, gpt-2, llama-bpe, qwen2, smollm "
                        + "and their aliases)")
            }
            kind = .bytePair(configuration)
            defaults.bos = 11
            defaults.eos = 11
            cleansSpaces = configuration.cleanSpaces
            addsBOS = configuration.addsBOS
        default:
            throw TokenizerError(
                "tokenizer.ggml.model", "tokenizer model '\(modelName)' is not supported (supported: llama, gpt2)")
        }
        if let prefix = try Self.read("tokenizer.ggml.add_space_prefix", gguf.optionalBool) {
            addsSpacePrefix = prefix
        }

        // Tokens, scores, types.
        let tokens = try Self.read("tokenizer.ggml.tokens", gguf.strings)
        let n = tokens.count
        guard n > 0, n <= Self.maxTokens else {
            throw TokenizerError("tokenizer.ggml.tokens", "\(n) tokens; expected between 1 and \(Self.maxTokens)")
        }
        let scoreValues = try Self.read("tokenizer.ggml.scores", gguf.optionalFloats)
        if let scoreValues, scoreValues.count < n {
            throw TokenizerError("tokenizer.ggml.scores", "\(scoreValues.count) scores for \(n) tokens")
        }
        let types = try Self.read("tokenizer.ggml.token_type", gguf.optionalIntegers)
        if let types, types.count < n {
            throw TokenizerError("tokenizer.ggml.token_type", "\(types.count) token types for \(n) tokens")
        }
        texts = try Self.buildTextTable(tokens)
        scores = scoreValues.map { Array($0.prefix(n)) } ?? [Float](repeating: 0, count: n)
        attributes = types.map { $0.prefix(n).map(TokenAttributes.init(tokenType:)) }
            ?? [TokenAttributes](repeating: .normal, count: n)

        if case .bytePair = kind {
            merges = try Self.buildMergeTable(
                Self.read("tokenizer.ggml.merges", gguf.optionalStrings))
        }
        if case .sentencePiece = kind {
            let table = texts
            byteTokens = (0..<256).map { byte in
                let hex = Array("0123456789ABCDEF".utf8)
                let name: [UInt8] = [0x3C, 0x30, 0x78, hex[byte >> 4], hex[byte & 15], 0x3E]  // <0xXX>
                let id = table.value(name)
                return id >= 0 ? id : table.value([UInt8(byte)])
            }
        }

        // Special token ids: defaults outside the vocabulary are dropped, then the file's ids (when inside) win.
        try readSpecialIDs(gguf, defaults: defaults)
        if let value = try Self.read("tokenizer.ggml.add_bos_token", gguf.optionalBool) {
            addsBOS = value
        }
        if let value = try Self.read("tokenizer.ggml.add_eos_token", gguf.optionalBool) {
            addsEOS = value
        }
        if addsBOS && !contains(ids.bos) {
            throw TokenizerError("tokenizer.ggml.bos_token_id", "the vocabulary adds BOS but has no BOS token")
        }
        if addsEOS && !contains(ids.eos) {
            throw TokenizerError("tokenizer.ggml.eos_token_id", "the vocabulary adds EOS but has no EOS token")
        }

        detectSpecialTokensByText()
        let table = texts
        // Longest first; llama.cpp's std::sort leaves equal lengths in an unspecified order, ids ascending here.
        partitionOrder = (0..<Int32(n)).filter { !attributes[Int($0)].isDisjoint(with: .partitioned) }.sorted { a, b in
            let (la, lb) = (table.key(at: Int(a)).count, table.key(at: Int(b)).count)
            return la != lb ? la > lb : a < b
        }
        let name = try Self.read("general.name", gguf.optionalString) ?? ""
        let architecture = try Self.read("general.architecture", gguf.optionalString) ?? ""
        applyModelAttributes(modelName: name, preName: preName ?? "", architecture: architecture)
    }

    /// Tokens (and merges) a vocabulary may have: GGUF's own array cap, far above real vocabularies (262,144).
    static let maxTokens = 1 << 24

    /// Runs a metadata read and turns its GGUFError into a TokenizerError naming the key.
    private static func read<T>(_ key: String, _ body: (String) throws(GGUFError) -> T) throws(TokenizerError) -> T {
        do {
            return try body(key)
        } catch {
            throw TokenizerError(key, "\(error)")
        }
    }

    private static func buildTextTable(_ tokens: [String]) throws(TokenizerError) -> ByteStringTable {
        var byteCount = 0
        for (i, token) in tokens.enumerated() {
            byteCount += token.isEmpty ? "[EMPTY_\(i)]".utf8.count : token.utf8.count
        }
        let table = ByteStringTable(entryCapacity: tokens.count, byteCapacity: byteCount)
        for (i, token) in tokens.enumerated() {
            // llama.cpp renames an empty token so that every text stays distinct and non-empty.
            var text = token.isEmpty ? "[EMPTY_\(i)]" : token
            let existing = text.withUTF8 { table.insert($0, value: Int32(i)) }
            if let existing {
                throw TokenizerError(
                    "tokenizer.ggml.tokens",
                    "token \(i) has the same text as token \(existing): \(String(reflecting: token))")
            }
        }
        return table
    }

    /// Merges are "left right" split at the first space after the first byte; a repeated pair keeps its first
    /// (lowest) rank, as llama.cpp's `bpe_ranks.emplace` does.
    private static func buildMergeTable(_ merges: [String]?) throws(TokenizerError) -> ByteStringTable {
        guard let merges else {
            throw TokenizerError("tokenizer.ggml.merges", "missing: a gpt2 (BPE) vocabulary needs its merges")
        }
        guard merges.count <= maxTokens else {
            throw TokenizerError("tokenizer.ggml.merges", "\(merges.count) merges; expected at most \(maxTokens)")
        }
        let table = ByteStringTable(entryCapacity: merges.count, byteCapacity: merges.reduce(0) { $0 + $1.utf8.count })
        var pair: [UInt8] = []
        for (rank, merge) in merges.enumerated() {
            let bytes = Array(merge.utf8)
            guard bytes.count > 1, let space = bytes[1...].firstIndex(of: 0x20) else { continue }
            pair.removeAll(keepingCapacity: true)
            pair.append(contentsOf: bytes[..<space])
            pair.append(contentsOf: bytes[(space + 1)...])
            _ = pair.withUnsafeBufferPointer { table.insert($0, tag: Int32(space), value: Int32(rank)) }
        }
        return table
    }

    private mutating func readSpecialIDs(_ gguf: GGUFFile, defaults: SpecialTokenIDs) throws(TokenizerError) {
        ids = defaults
        let keys: [(String, WritableKeyPath<SpecialTokenIDs, Int32>)] = [
            ("bos_token_id", \.bos), ("eos_token_id", \.eos), ("eot_token_id", \.eot), ("eom_token_id", \.eom),
            ("unknown_token_id", \.unknown), ("seperator_token_id", \.separator), ("padding_token_id", \.padding),
            ("mask_token_id", \.mask), ("fim_pre_token_id", \.fimPrefix), ("fim_suf_token_id", \.fimSuffix),
            ("fim_mid_token_id", \.fimMiddle), ("fim_pad_token_id", \.fimPad), ("fim_rep_token_id", \.fimRepo),
            ("fim_sep_token_id", \.fimSeparator),
            // Deprecated spellings of the FIM ids.
            ("prefix_token_id", \.fimPrefix), ("suffix_token_id", \.fimSuffix), ("middle_token_id", \.fimMiddle),
        ]
        for (suffix, path) in keys {
            if ids[keyPath: path] >= 0 && !contains(ids[keyPath: path]) { ids[keyPath: path] = -1 }
            let key = "tokenizer.ggml." + suffix
            guard let value = try Self.read(key, gguf.optionalInteger) else { continue }
            if value >= 0 && value < count { ids[keyPath: path] = Int32(value) }
        }
    }
}
