// Request bodies of the OpenAI routes as the agent reads them: text parts, roles, refused fields, and options.
import Inference
import JSON
import XCTest
@testable import Agent

final class OpenAIRequestTests: XCTestCase {
    private func body(_ text: String, chat: Bool = true) throws(JSONFieldError) -> CompletionRequestBody {
        try CompletionRequestBody(Array(text.utf8), chat: chat)
    }

    private func refusal(_ text: String, chat: Bool = true) -> String {
        do {
            _ = try body(text, chat: chat)
            return "accepted"
        } catch {
            return error.message
        }
    }

    func testChatContentAsTextPartsAndRoles() throws {
        let parsed = try body("""
            {"model": "m", "messages": [{"role": "developer", "content": "Be brief."},
             {"role": "user", "content": [{"type": "text", "text": "Name three "}, {"type": "text", "text": "colours."}]},
             {"role": "assistant", "content": null}], "temperature": 0.5, "stop": ["\\n"], "user": "till-3"}
            """)
        XCTAssertEqual(parsed.model, "m")
        XCTAssertEqual(parsed.messages?.map(\.role), ["system", "user", "assistant"])
        XCTAssertEqual(parsed.messages?.map(\.content), ["Be brief.", "Name three colours.", ""])
        XCTAssertEqual(parsed.fields.temperature, 0.5)
        XCTAssertEqual(parsed.fields.stop?.all, ["\n"])
    }

    func testWhatIsRefusedAndWhy() {
        XCTAssertEqual(refusal(#"{"model": "m", "messages": [{"role": "robot", "content": "x"}]}"#),
                       "field 'messages.0.role' must be one of system, developer, user, assistant, got 'robot'")
        XCTAssertEqual(refusal(#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "input_audio"}]}]}"#),
                       "field 'messages.0.content.0.type' is 'input_audio': only text parts are supported (this agent serves text models)")
        XCTAssertEqual(refusal(#"{"model": "m", "messages": []}"#), "'messages' must not be empty")
        XCTAssertEqual(refusal(#"{"model": "m", "prompt": ["a", "b"]}"#, chat: false),
                       "'prompt' must be one string (got 2); batch prompts are not supported")
        XCTAssertEqual(refusal(#"{"model": "m", "prompt": ["a", 5]}"#, chat: false),
                       "field 'prompt.1' has the wrong type: expected a string, got a number")
        XCTAssertEqual(refusal(#"{"model": "m", "prompt": "x", "tool_choice": "auto"}"#, chat: false),
                       "field 'tool_choice' is not supported: this agent does not implement tool calls")
        XCTAssertEqual(refusal(#"{"model": "m", "prompt": "x", "best_of": 3}"#, chat: false),
                       "field 'best_of' is not supported: use 'n' for several choices")
        XCTAssertEqual(refusal("[1,]", chat: false), "field '1' is not valid JSON: unexpected ']', expected a value at byte 3")
        XCTAssertEqual(refusal("[1]", chat: false), "the body must be a JSON object, got an array")
        // What asks for nothing passes: empty tools, empty bias, echo false, a text response format.
        XCTAssertEqual(refusal(#"{"model": "m", "prompt": "x", "tools": [], "logit_bias": {}, "echo": false,"#
                               + #" "response_format": {"type": "text"}, "tool_choice": "none", "best_of": 1}"#, chat: false), "accepted")
    }

    func testGenerationOptionsCheckTheirFields() throws {
        func options(_ text: String) throws -> GenerationOptions {
            try OpenAIRoutes.generationOptions(try body(text, chat: false).fields, chat: false, contextLength: 512)
        }
        let stop = String(repeating: "s", count: 257)
        XCTAssertThrowsError(try options(#"{"model": "m", "prompt": "x", "stop": "\#(stop)"}"#)) { error in
            XCTAssertEqual((error as? JSONFieldError)?.message, "each 'stop' string may be at most 256 bytes; one is 257")
        }
        XCTAssertThrowsError(try options(#"{"model": "m", "prompt": "x", "max_tokens": 513}"#))
        let fine = try options(#"{"model": "m", "prompt": "x", "max_tokens": 3, "top_k": 5, "seed": 9}"#)
        XCTAssertEqual(fine.maxTokens, 3)
        XCTAssertEqual(fine.sampling.topK, 5)
        XCTAssertEqual(fine.sampling.seed, 9)
    }
}
