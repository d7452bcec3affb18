// Chat prompts against llama.cpp's own llm_chat_apply_template output, and format detection against its
// llm_chat_detect_template (fixtures from tests/fixtures/make_tokenizer_fixtures.py).
import Foundation
import GGUF
import Tokenizer
import TestKit
import XCTest

final class ChatTemplateTests: XCTestCase {
    private struct Fixture: Decodable {
        struct Message: Decodable {
            let role: String
            let content: String
        }

        struct Render: Decodable {
            let format: String
            let add_generation_prompt: Bool
            let messages: [Message]
            let output: String
        }

        struct Detect: Decodable {
            let source: String
            let template: String
            let llama_cpp: String
        }

        let render: [Render]
        let detect: [Detect]
    }

    private static let formats: [String: ChatTemplate] = [
        "gemma": .gemma, "llama3": .llama3, "chatml": .chatml, "mistral-v7": .mistral,
    ]

    private func fixture() throws -> Fixture {
        let url = Fixtures.url("tokenizer/chat_templates.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testRenderingMatchesLlamaCpp() throws {
        let fixture = try fixture()
        XCTAssertEqual(fixture.render.count, 72)
        for c in fixture.render {
            let template = try XCTUnwrap(Self.formats[c.format])
            let messages = c.messages.map { ChatMessage(role: $0.role, content: $0.content) }
            XCTAssertEqual(
                template.render(messages, addGenerationPrompt: c.add_generation_prompt), c.output,
                "\(c.format) add_generation_prompt=\(c.add_generation_prompt) \(c.messages.map(\.role))")
        }
    }

    /// A few renderings spelled out, so that the formats can be read here.
    func testGemmaFoldsTheSystemMessageIntoTheFirstUserTurn() {
        let messages = [
            ChatMessage(role: "system", content: " Be brief. "), ChatMessage(role: "user", content: "Hi\n"),
            ChatMessage(role: "assistant", content: "Hello."), ChatMessage(role: "user", content: "Bye"),
        ]
        XCTAssertEqual(
            ChatTemplate.gemma.render(messages, addGenerationPrompt: true),
            "<start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\nHello.<end_of_turn>\n"
                + "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n")
        XCTAssertEqual(
            ChatTemplate.chatml.render([ChatMessage(role: "user", content: " x ")], addGenerationPrompt: true),
            "<|im_start|>user\n x <|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(
            ChatTemplate.llama3.render([ChatMessage(role: "user", content: " x ")], addGenerationPrompt: false),
            "<|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|>")
        XCTAssertEqual(
            ChatTemplate.mistral.render(
                [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U"),
                 ChatMessage(role: "assistant", content: "A")], addGenerationPrompt: true),
            "[SYSTEM_PROMPT] S[/SYSTEM_PROMPT][INST] U[/INST] A</s>")
    }

    func testDetectionAgreesWithLlamaCpp() throws {
        let fixture = try fixture()
        for c in fixture.detect {
            let file = try GGUFFile(bytes: MetadataWriter.file([
                ("general.architecture", .string("llama")), ("tokenizer.chat_template", .string(c.template)),
            ]))
            if let expected = Self.formats[c.llama_cpp] {
                XCTAssertEqual(try ChatTemplate.detect(gguf: file), expected, c.source)
            } else {
                XCTAssertThrowsError(try ChatTemplate.detect(gguf: file), c.source) { error in
                    let message = "\(error)"
                    XCTAssertTrue(message.contains("tokenizer.chat_template"), message)
                    if c.llama_cpp != "unknown" {
                        XCTAssertTrue(message.contains("'\(c.llama_cpp)'"), "\(c.source): \(message)")
                    }
                }
            }
        }
    }

    func testDetectionFromArchitectureWhenTheFileHasNoTemplate() throws {
        XCTAssertEqual(try ChatTemplate.detect(gguf: ReferenceData.open(ReferenceData.modelPath())), .gemma)
        let qwen = try GGUFFile(bytes: MetadataWriter.file([("general.architecture", .string("qwen2"))]))
        XCTAssertEqual(try ChatTemplate.detect(gguf: qwen), .chatml)
        let other = try GGUFFile(bytes: MetadataWriter.file([("general.architecture", .string("gpt2"))]))
        XCTAssertThrowsError(try ChatTemplate.detect(gguf: other)) { error in
            XCTAssertTrue("\(error)".contains("architecture 'gpt2'"), "\(error)")
        }
    }

    func testDetectionFromLlamaCppVocabularies() throws {
        let qwen2 = try ReferenceData.open(ReferenceData.vocabularyPath("qwen2"))
        XCTAssertEqual(try ChatTemplate.detect(gguf: qwen2), .chatml)
        let phi3 = try ReferenceData.open(ReferenceData.vocabularyPath("phi-3"))
        XCTAssertThrowsError(try ChatTemplate.detect(gguf: phi3)) {
            XCTAssertTrue("\($0)".contains("'phi3'"), "\($0)")
        }
    }
}
