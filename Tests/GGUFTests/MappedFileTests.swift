import Foundation
import Glibc
import GGUF
import Platform
import TestKit
import XCTest

final class MappedFileTests: XCTestCase {
    private var directory = ""

    private var temporary: TemporaryDirectory?

    override func setUpWithError() throws {
        let temporary = try TemporaryDirectory(prefix: "mapped")
        self.temporary = temporary
        directory = temporary.root
    }

    override func tearDown() {
        temporary?.remove()
    }

    private func write(_ bytes: [UInt8], _ name: String) throws -> String {
        let path = directory + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func testMapsTheFileAndKeepsItAliveThroughTheGGUFFile() throws {
        let written = GGUFTestWriter(
            metadata: [("general.architecture", .string("llama"))],
            tensors: [TestTensor("w", .q8_0, [64, 2])]).build()
        let path = try write(written, "model.gguf")
        var mapped: MappedFile? = try MappedFile(path: path)
        XCTAssertEqual(mapped?.count, written.count)
        XCTAssertEqual(mapped.map { Array($0.bytes) }, written)
        mapped?.adviseWillNeed()
        let file = try GGUFFile(bytes: mapped!.bytes, owner: mapped)
        mapped = nil
        // The GGUFFile holds the mapping: its bytes stay readable after the caller lets go.
        let tensor = try XCTUnwrap(file.tensor("w"))
        XCTAssertEqual(Array(file.data(tensor)), Array(written[tensor.offset..<(tensor.offset + tensor.byteCount)]))
        XCTAssertEqual(try file.string("general.architecture"), "llama")
    }

    func testEmptyFileIsNotMapped() throws {
        let mapped = try MappedFile(path: try write([], "empty"))
        XCTAssertEqual(mapped.count, 0)
        XCTAssertNil(mapped.bytes.baseAddress)
        mapped.adviseWillNeed()
        XCTAssertThrowsError(try GGUFFile(bytes: mapped.bytes, owner: mapped)) { error in
            XCTAssertEqual((error as? GGUFError)?.field, "magic")
        }
    }

    func testMissingFileAndDirectoryAreErrors() {
        XCTAssertThrowsError(try MappedFile(path: directory + "/absent.gguf")) { error in
            XCTAssertEqual((error as? SystemError)?.errno, .noEntry)
            XCTAssertTrue("\(error)".hasPrefix("open \(self.directory)/absent.gguf: "), "\(error)")
        }
        XCTAssertThrowsError(try MappedFile(path: directory)) { error in
            XCTAssertEqual((error as? SystemError)?.errno, Errno(rawValue: EISDIR))
            XCTAssertEqual((error as? SystemError)?.operation, "mmap")
        }
    }
}
