// The strict parser against RFC 8259: what it must accept, what it must refuse, and what its messages name.
import JSON
import XCTest

final class JSONParserTests: XCTestCase {
    private func refusal(_ text: String, file: StaticString = #filePath, line: UInt = #line) -> JSONError? {
        do {
            let value = try JSONParser.parse(text)
            XCTFail("accepted \(String(reflecting: text)) as \(value)", file: file, line: line)
            return nil
        } catch {
            return error
        }
    }

    func testAcceptsTheGrammar() throws {
        let value = try JSONParser.parse(" {\"a\": [1, -0, 2.5e-3, 1E+2, true, false, null], \"b\": {\"c\": \"\\u00e9\\ud83d\\ude00\\n\\/\"}} ")
        XCTAssertEqual(value["a"], .array([.number("1"), .number("-0"), .number("2.5e-3"), .number("1E+2"), .bool(true), .bool(false), .null]))
        XCTAssertEqual(value["b"]?["c"], .string("é😀\n/"))
        XCTAssertEqual(try JSONParser.parse("\"plain ünïcödé 你好\""), .string("plain ünïcödé 你好"))
        XCTAssertEqual(try JSONParser.parse("[]"), .array([]))
        XCTAssertEqual(try JSONParser.parse("{}"), .object([]))
    }

    func testRefusesWhatLenientParsersAccept() {
        // Each of these is accepted by Foundation's JSONDecoder or a lenient reader, and is not JSON.
        let cases: [(String, String)] = [
            ("[1,]", "expected a value"),
            ("{\"a\": 1,}", "expected a member name"),
            ("\"\\q\"", "unknown escape '\\q'"),
            ("[01]", "leading zero"),
            ("[1.]", "digits after '.'"),
            ("[.5]", "expected a value"),
            ("[+1]", "expected a value"),
            ("[1e]", "exponent"),
            ("{'a': 1}", "double quotes"),
            ("[NaN]", "expected a value"),
            ("[Infinity]", "expected a value"),
            ("// c\n{}", "expected a value"),
            ("{} {}", "after the value"),
            ("[tru]", "expected a value"),
            ("{\"a\": 1, \"a\": 2}", "duplicate member 'a'"),
            ("", "end of input"),
            ("\"abc", "unterminated string"),
        ]
        for (text, fragment) in cases {
            guard let error = refusal(text) else { continue }
            XCTAssertTrue(error.description.contains(fragment), "\(String(reflecting: text)): \(error)")
            XCTAssertTrue(error.description.contains("not valid JSON"), "\(error)")
        }
    }

    func testStringsMustBeValidUnicode() {
        let rawControl = refusal("{\"prompt\": \"a\u{01}b\"}")
        XCTAssertEqual(rawControl?.path, "prompt")
        XCTAssertTrue(rawControl?.reason.contains("raw control character U+0001") ?? false, "\(String(describing: rawControl))")
        XCTAssertEqual(rawControl?.offset, 13)
        let lone = refusal("{\"prompt\": \"x\\ud800y\"}")
        XCTAssertEqual(lone?.path, "prompt")
        XCTAssertTrue(lone?.reason.contains("lone UTF-16 surrogate \\uD800") ?? false, "\(String(describing: lone))")
        XCTAssertTrue(refusal("\"\\udc00\"")?.reason.contains("low surrogate with no high one") ?? false)
        XCTAssertTrue(refusal("\"\\ud800\\u0041\"")?.reason.contains("followed by \\u0041") ?? false)
        // Invalid UTF-8: a stray continuation byte, an overlong form, an encoded surrogate, past U+10FFFF, cut off.
        for bytes: [UInt8] in [[0x80], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE4, 0xBD]] {
            let document = Array("{\"messages\": [{\"content\": \"".utf8) + bytes + Array("\"}]}".utf8)
            do {
                _ = try JSONParser.parse(document)
                XCTFail("accepted \(bytes)")
            } catch {
                XCTAssertEqual(error.path, "messages.0.content")
                XCTAssertTrue(error.reason.contains("invalid UTF-8"), "\(error)")
            }
        }
    }

    func testNestingIsBounded() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        XCTAssertTrue(refusal(deep)?.reason.contains("nesting deeper than 64") ?? false)
        XCTAssertNoThrow(try JSONParser.parse(String(repeating: "[", count: 64) + String(repeating: "]", count: 64)))
    }

    func testObjectReaderNamesTheFieldAndTheReason() throws {
        let body = try JSONObjectReader(JSONParser.parse(
            "{\"top_p\": 1e-46, \"temperature\": 1e308, \"n\": 2.5, \"max_tokens\": 3.0, \"seed\": -1, \"stop\": null, \"model\": 5}"))
        func message(_ read: () throws -> Any?) -> String {
            do {
                _ = try read()
                return "no error"
            } catch {
                return (error as? JSONFieldError)?.message ?? "\(error)"
            }
        }
        XCTAssertEqual(message { try body.float("top_p") }, "field 'top_p' is out of range: 1e-46 is too small for a 32-bit float (write 0)")
        XCTAssertEqual(message { try body.float("temperature") }, "field 'temperature' is out of range: 1e308 does not fit a 32-bit float")
        XCTAssertEqual(message { try body.int("n") }, "field 'n' must be a whole number, got 2.5")
        XCTAssertEqual(try body.int("max_tokens"), 3)
        XCTAssertEqual(message { try body.uint64("seed") }, "field 'seed' must not be negative, got -1")
        XCTAssertNil(try body.string("stop"), "null is absent")
        XCTAssertEqual(message { try body.string("model") }, "field 'model' has the wrong type: expected a string, got a number")
        XCTAssertEqual(message { try body.required("missing", body.string) }, "missing field 'missing'")
    }

    /// Random damage to a valid document never crashes the parser: every outcome is a value or a JSONError.
    func testDamagedDocumentsAreRefusedNotCrashedOn() {
        let seed = Array("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": \"h\\u00e9llo \\ud83d\\ude00\"}], \"n\": 1e2}".utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var accepted = 0
        for _ in 0..<20_000 {
            var bytes = seed
            for _ in 0..<(1 + Int(next() % 4)) {
                let at = Int(next() % UInt64(bytes.count))
                switch next() % 3 {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: next())
                case 1: bytes.remove(at: at)
                default: bytes.insert(UInt8(truncatingIfNeeded: next()), at: at)
                }
            }
            if (try? JSONParser.parse(bytes)) != nil { accepted += 1 }
        }
        XCTAssertLessThan(accepted, 20_000, "damage that never breaks the document means the parser accepts anything")
    }
}
