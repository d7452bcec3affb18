import Foundation
import TestKit
import XCTest
@testable import Platform

final class AtomicFileTests: XCTestCase {
    func testWriteReplacesContentAndLeavesNoTemporaryFile() throws {
        let top = try TemporaryDirectory(prefix: "atomic")
        defer { top.remove() }
        let directory = top.path("a/b")
        try AtomicFile.makeDirectories(directory)
        let path = directory + "/state.json"
        try AtomicFile.write(Array("one".utf8), to: path)
        try AtomicFile.write(Array("two".utf8), to: path, mode: 0o600)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "two")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory), ["state.json"])
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testWriteIntoMissingDirectoryNamesIt() {
        XCTAssertThrowsError(try AtomicFile.write([1], to: "/nonexistent-outpost-dir/x")) { error in
            XCTAssertTrue("\(error)".hasPrefix("open /nonexistent-outpost-dir/x.tmp."), "\(error)")
        }
    }

    func testReadAllHonoursTheLimit() throws {
        let directory = try TemporaryDirectory(prefix: "limit")
        defer { directory.remove() }
        let path = try directory.write("data", [UInt8](repeating: 7, count: 5000))
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { fd.close() }
        XCTAssertThrowsError(try fd.readAll(limit: 4096))
    }

    func testResidentMemoryIsPlausible() {
        let rss = ProcessStats.residentMemoryBytes()
        XCTAssertGreaterThan(rss, 1 << 20)
        XCTAssertLessThan(rss, 1 << 34)
    }
}
