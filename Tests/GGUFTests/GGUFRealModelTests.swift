import GGUF
import XCTest

/// Gemma 3 270M Q4_K_M as llama.cpp's converter wrote it. Expected values were read with the `gguf` Python
/// package 0.19.0 (GGUFReader), which shares no code with this reader.
final class GGUFRealModelTests: XCTestCase {
    func testHeaderAndHyperparameters() throws {
        let file = try RealModel.open()
        XCTAssertEqual(file.bytes.count, 253_113_024)
        XCTAssertEqual(file.version, 3)
        XCTAssertEqual(file.alignment, 32)
        XCTAssertEqual(file.dataOffset, 6_525_120)
        XCTAssertEqual(file.metadata.count, 33)
        XCTAssertEqual(file.tensors.count, 236)

        XCTAssertEqual(try file.string("general.architecture"), "gemma3")
        XCTAssertEqual(try file.string("general.name"), "Gemma 3 270m")
        XCTAssertEqual(try file.strings("general.tags"), ["gemma3", "gemma", "google", "text-generation"])
        XCTAssertEqual(try file.integer("general.file_type"), 15)
        XCTAssertEqual(try file.integer("general.quantization_version"), 2)

        let hyperparameters: [(String, Int)] = [
            ("gemma3.context_length", 32768), ("gemma3.embedding_length", 640), ("gemma3.block_count", 18),
            ("gemma3.feed_forward_length", 2048), ("gemma3.attention.head_count", 4),
            ("gemma3.attention.head_count_kv", 1), ("gemma3.attention.key_length", 256),
            ("gemma3.attention.value_length", 256), ("gemma3.attention.sliding_window", 512),
        ]
        for (key, value) in hyperparameters {
            XCTAssertEqual(file[key]?.type, .uint32, key)
            XCTAssertEqual(try file.integer(key), value, key)
        }
        XCTAssertEqual(file["gemma3.attention.layer_norm_rms_epsilon"], .float32(1e-6))
        XCTAssertEqual(file["gemma3.rope.freq_base"], .float32(1_000_000))
        XCTAssertNil(file["gemma3.rope.scaling.type"])
    }

    func testTokenizerMetadata() throws {
        let file = try RealModel.open()
        XCTAssertEqual(try file.string("tokenizer.ggml.model"), "llama")
        XCTAssertEqual(try file.string("tokenizer.ggml.pre"), "default")
        let tokens = try file.strings("tokenizer.ggml.tokens")
        let scores = try file.floats("tokenizer.ggml.scores")
        let types = try file.integers("tokenizer.ggml.token_type")
        XCTAssertEqual(tokens.count, 262_144)
        XCTAssertEqual(scores.count, 262_144)
        XCTAssertEqual(types.count, 262_144)
        XCTAssertEqual(file["tokenizer.ggml.token_type"].map { if case .array(let a) = $0 { a.typeName } else { "" } }, "arr[i32]")
        XCTAssertEqual(Array(tokens[0..<5]), ["<pad>", "<eos>", "<bos>", "<unk>", "<mask>"])
        XCTAssertEqual(tokens[105], "<start_of_turn>")
        XCTAssertEqual(tokens[106], "<end_of_turn>")
        XCTAssertEqual(tokens[107], "\n")
        XCTAssertEqual(tokens[1000], "put")
        XCTAssertEqual(tokens[262_143], "<unused6241>")
        XCTAssertEqual(tokens.reduce(0) { $0 + $1.utf8.count }, 2_315_366, "every token byte, none repaired")
        XCTAssertEqual(scores[0], -1000)
        XCTAssertEqual(scores[1000], -506)
        XCTAssertEqual(scores[236_761], -236_298)
        XCTAssertEqual(types[0], 3)
        XCTAssertEqual(types[107], 4)
        XCTAssertEqual(types[1000], 1)
        let typeCounts = Dictionary(grouping: types, by: { $0 }).mapValues(\.count)
        XCTAssertEqual(typeCounts, [1: 255_474, 3: 6249, 4: 165, 6: 256])

        XCTAssertEqual(try file.integer("tokenizer.ggml.bos_token_id"), 2)
        XCTAssertEqual(try file.integer("tokenizer.ggml.eos_token_id"), 1)
        XCTAssertEqual(try file.integer("tokenizer.ggml.unknown_token_id"), 3)
        XCTAssertEqual(try file.integer("tokenizer.ggml.padding_token_id"), 0)
        XCTAssertEqual(try file.bool("tokenizer.ggml.add_bos_token"), true)
        XCTAssertEqual(try file.bool("tokenizer.ggml.add_eos_token"), false)
        XCTAssertEqual(try file.bool("tokenizer.ggml.add_sep_token"), false)
        XCTAssertEqual(try file.bool("tokenizer.ggml.add_space_prefix"), false)
        XCTAssertNil(try file.optionalStrings("tokenizer.ggml.merges"))
        XCTAssertNil(try file.optionalString("tokenizer.chat_template"))
    }

    func testTensorDirectory() throws {
        let file = try RealModel.open()
        XCTAssertEqual(Array(file.tensors.prefix(3).map(\.name)), ["output_norm.weight", "token_embd.weight", "blk.0.attn_k.weight"])
        XCTAssertNil(file.tensor("output.weight"), "Gemma ties the output projection to the embeddings")
        let layer0 = file.tensors.filter { $0.name.hasPrefix("blk.0.") }.map(\.description)
        XCTAssertEqual(layer0, [
            "blk.0.attn_k.weight Q5_0 [640, 256]",
            "blk.0.attn_k_norm.weight F32 [256]",
            "blk.0.attn_norm.weight F32 [640]",
            "blk.0.attn_output.weight Q4_K [1024, 640]",
            "blk.0.attn_q.weight Q5_0 [640, 1024]",
            "blk.0.attn_q_norm.weight F32 [256]",
            "blk.0.attn_v.weight Q8_0 [640, 256]",
            "blk.0.ffn_down.weight Q6_K [2048, 640]",
            "blk.0.ffn_gate.weight Q5_0 [640, 2048]",
            "blk.0.ffn_norm.weight F32 [640]",
            "blk.0.ffn_up.weight Q5_0 [640, 2048]",
            "blk.0.post_attention_norm.weight F32 [640]",
            "blk.0.post_ffw_norm.weight F32 [640]",
        ])
        let embeddings = try XCTUnwrap(file.tensor("token_embd.weight"))
        XCTAssertEqual(embeddings.type, .q8_0)
        XCTAssertEqual(embeddings.dimensions, [640, 262_144])
        XCTAssertEqual(embeddings.offset, 6_527_680)
        XCTAssertEqual(embeddings.byteCount, 178_257_920)
        XCTAssertEqual(embeddings.rowBytes, 680)
        XCTAssertEqual(embeddings.rows, 262_144)
        XCTAssertEqual(Array(file.data(embeddings).prefix(8)), [0xF2, 0x10, 0xF4, 0x47, 0xC7, 0xDD, 0xEC, 0x30])

        let attnOutput = try XCTUnwrap(file.tensor("blk.0.attn_output.weight"))
        XCTAssertEqual(attnOutput.offset, 184_901_824)
        XCTAssertEqual(attnOutput.byteCount, 368_640)

        let typeCounts = Dictionary(grouping: file.tensors, by: \.type.name).mapValues(\.count)
        XCTAssertEqual(typeCounts, ["F32": 109, "Q5_0": 81, "Q4_K": 27, "Q8_0": 10, "Q6_K": 9])

        let last = try XCTUnwrap(file.tensor("blk.17.post_ffw_norm.weight"))
        XCTAssertEqual(last.offset + last.byteCount, file.bytes.count, "the last tensor ends the file")
        XCTAssertEqual(file.tensors.map(\.byteCount).reduce(0, +), file.bytes.count - file.dataOffset, "no gaps: every byte after the header belongs to a tensor")
    }

    func testTensorBytesAreTheFileBytes() throws {
        let file = try RealModel.open()
        func floats(_ name: String) throws -> [Float] {
            let data = file.data(try XCTUnwrap(file.tensor(name)))
            return (0..<4).map { data.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        }
        XCTAssertEqual(try floats("blk.0.attn_norm.weight"), [16.0, 16.875, 10.8125, 41.5])
        XCTAssertEqual(try floats("output_norm.weight"), [7.125, 9.5625, 47.0, 145.0])
    }

    /// Parsing must stay linear in the metadata: the 262,144-token vocabulary takes well under a second in a
    /// release build. The debug bound only catches gross regressions (a quadratic parse takes minutes).
    func testParsingTheRealHeaderIsFast() throws {
        let file = try RealModel.open()
        let clock = ContinuousClock()
        var parsed = 0
        let elapsed = try clock.measure {
            parsed = try GGUFFile(bytes: file.bytes, owner: file).tensors.count
        }
        XCTAssertEqual(parsed, 236)
        #if DEBUG
        let limit = Duration.seconds(10)
        #else
        let limit = Duration.seconds(1)
        #endif
        XCTAssertLessThan(elapsed, limit, "parsing the metadata took \(elapsed)")
        print("GGUF: parsed the real model's header (\(file.dataOffset) bytes, 262,144 tokens) in \(elapsed)")
    }
}
