// Assertions shared by the GGUF tests.
import GGUF
import XCTest

/// Parses `bytes`, expecting a GGUFError whose field is `field` and whose message contains `message`;
/// returns the error for further checks.
@discardableResult
func assertRejects(
    _ bytes: [UInt8], field: String, message: String, offset: Int? = nil,
    file: StaticString = #filePath, line: UInt = #line
) -> GGUFError? {
    do {
        let parsed = try GGUFFile(bytes: bytes)
        XCTFail("expected an error on \(field), parsed \(parsed.tensors.count) tensors", file: file, line: line)
        return nil
    } catch {
        XCTAssertEqual(error.field, field, "\(error)", file: file, line: line)
        XCTAssertTrue(error.message.contains(message), "message lacks '\(message)': \(error)", file: file, line: line)
        if let offset { XCTAssertEqual(error.offset, offset, "\(error)", file: file, line: line) }
        XCTAssertTrue(error.offset >= 0 && error.offset <= bytes.count, "offset outside the file: \(error)", file: file, line: line)
        return error
    }
}

/// Asserts that a throwing metadata lookup fails naming `key`, with `message` in its text.
func assertLookupFails<T>(
    _ body: @autoclosure () throws(GGUFError) -> T, key: String, message: String,
    file: StaticString = #filePath, line: UInt = #line
) {
    do {
        let value = try body()
        XCTFail("expected an error for '\(key)', got \(value)", file: file, line: line)
    } catch {
        XCTAssertEqual(error.field, "metadata '\(key)'", "\(error)", file: file, line: line)
        XCTAssertTrue(error.message.contains(message), "message lacks '\(message)': \(error)", file: file, line: line)
    }
}
