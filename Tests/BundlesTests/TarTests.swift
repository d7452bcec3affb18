// The tar reader against archives GNU tar writes, our writer's output read back by GNU tar, and the hostile
// archives of the bundle issue: links, devices, FIFOs, climbing or absolute names, duplicates, extension headers,
// damaged headers and entries longer than the file.
import Foundation
import Platform
import TestKit
import XCTest

@testable import Bundles

final class TarTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "tar")
    }

    override func tearDown() {
        directory.remove()
    }

    func entries(_ path: String) throws -> [TarEntry] {
        let fd = try FileDescriptor.open(path, .readOnly)
        defer { fd.close() }
        return try Tar.entries(of: fd, length: try fd.status().size)
    }

    func entries(bytes: [UInt8]) throws -> [TarEntry] {
        try entries(try directory.write("archive.tar", bytes))
    }

    func tar(_ arguments: [String], in cwd: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/tar")
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: cwd)
        try process.run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "tar \(arguments)")
    }

    /// One header block in our writer's format with the given name and type, content `bytes`.
    func entry(_ name: String, type: UInt8 = UInt8(ascii: "0"), content: [UInt8] = [], link: String = "") -> [UInt8] {
        var header = Tar.header(name: String(name.prefix(100)), kind: .file, size: Int64(content.count), mode: 0o644, mtime: 0)
        header[156] = type
        for (i, b) in link.utf8.enumerated() { header[157 + i] = b }
        for i in 148..<156 { header[i] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + Int($1) }
        let text = Array(String(sum, radix: 8).utf8)
        let field = [UInt8](repeating: UInt8(ascii: "0"), count: 6 - text.count) + text + [0, UInt8(ascii: " ")]
        for (i, b) in field.enumerated() { header[148 + i] = b }
        return header + content + [UInt8](repeating: 0, count: Tar.padding(for: Int64(content.count)))
    }

    let end = [UInt8](repeating: 0, count: 1024)

    func assertRefused(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try entries(bytes: bytes), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "\(error) lacks '\(fragment)'", file: file, line: line)
        }
    }

    func testReadsWhatGNUTarWrites() throws {
        let tree = directory.path("tree")
        try FileManager.default.createDirectory(atPath: tree + "/blobs/sha256", withIntermediateDirectories: true)
        let blob = (0..<1500).map { UInt8($0 % 251) }
        try Data(blob).write(to: URL(fileURLWithPath: tree + "/blobs/sha256/abc"))
        try Data("{}".utf8).write(to: URL(fileURLWithPath: tree + "/index.json"))
        for format in ["ustar", "gnu"] {
            try tar(["--format=\(format)", "-C", tree, "-cf", directory.path("\(format).tar"), "."], in: directory.root)
            let list = try entries(directory.path("\(format).tar"))
            let files = list.filter { $0.kind == .file }
            XCTAssertEqual(Set(files.map(\.name)), ["blobs/sha256/abc", "index.json"], format)
            XCTAssertEqual(Set(list.filter { $0.kind == .directory }.map(\.name)), ["blobs", "blobs/sha256"], format)
            let abc = try XCTUnwrap(files.first { $0.name == "blobs/sha256/abc" })
            XCTAssertEqual(abc.size, 1500)
            let fd = try FileDescriptor.open(directory.path("\(format).tar"), .readOnly)
            XCTAssertEqual(try fd.read(count: 1500, at: abc.offset), blob)
            fd.close()
        }
    }

    func testGNUTarReadsWhatWeWrite() throws {
        let path = directory.path("ours.tar")
        let fd = try FileDescriptor.open(path, [.readWrite, .create, .exclusive])
        let writer = TarWriter(fd: fd, mtime: 1_796_000_000)
        try writer.addDirectory("blobs")
        try writer.addFile("index.json", Array("{\"a\":1}".utf8))
        // A file whose name is settled after its content, as a blob named by its digest.
        try writer.beginFile(size: 700)
        try writer.write([UInt8](repeating: 7, count: 300))
        try writer.write([UInt8](repeating: 9, count: 400))
        try writer.finishFile(name: "blobs/late")
        try writer.finish()
        fd.close()
        let out = directory.path("out")
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try tar(["-C", out, "-xf", path], in: directory.root)
        XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: out + "/index.json")), Data("{\"a\":1}".utf8))
        XCTAssertEqual([UInt8](try Data(contentsOf: URL(fileURLWithPath: out + "/blobs/late"))),
                       [UInt8](repeating: 7, count: 300) + [UInt8](repeating: 9, count: 400))
        XCTAssertEqual(try entries(path).map(\.name), ["blobs", "index.json", "blobs/late"])
    }

    func testSizesOf8GiBAndMoreUseBase256() throws {
        let big: Int64 = 9 << 30
        let header = Tar.header(name: "big", kind: .file, size: big, mode: 0o644, mtime: 0)
        XCTAssertEqual(header[124], 0x80)
        XCTAssertEqual(try Tar.parseHeader(header, at: 0).size, big)
        XCTAssertEqual(try Tar.parseHeader(Tar.header(name: "small", kind: .file, size: 0o77777777776, mode: 0o644, mtime: 0), at: 0).size,
                       0o77777777776)
    }

    func testLinksDevicesAndFIFOsAreRefused() {
        assertRefused(entry("blobs/x", type: UInt8(ascii: "2"), link: "/etc/shadow") + end, "symbolic link")
        assertRefused(entry("blobs/x", type: UInt8(ascii: "1"), link: "index.json") + end, "hard link")
        assertRefused(entry("dev", type: UInt8(ascii: "3")) + end, "device file")
        assertRefused(entry("dev", type: UInt8(ascii: "4")) + end, "device file")
        assertRefused(entry("fifo", type: UInt8(ascii: "6")) + end, "FIFO")
        assertRefused(entry("././@PaxHeader", type: UInt8(ascii: "x"), content: Array("30 path=../../etc/passwd\n".utf8)) + end, "extended header")
        assertRefused(entry("././@LongLink", type: UInt8(ascii: "L"), content: Array("x".utf8)) + end, "extended header")
    }

    func testNamesThatLeaveTheArchiveAreRefused() {
        assertRefused(entry("../evil") + end, "climbs out")
        assertRefused(entry("blobs/../../evil") + end, "climbs out")
        assertRefused(entry("/etc/passwd") + end, "absolute path")
        assertRefused(entry("blobs//x") + end, "empty or '.'")
        assertRefused(entry("a\u{1}b") + end, "not printable")
    }

    func testDuplicatesAreRefused() {
        assertRefused(entry("index.json", content: [1]) + entry("index.json", content: [2]) + end, "twice")
        // The same name spelt two ways is still the same entry.
        assertRefused(entry("index.json", content: [1]) + entry("./index.json", content: [2]) + end, "twice")
    }

    func testDamagedAndTruncatedArchivesAreRefused() {
        var damaged = entry("index.json", content: [1, 2, 3]) + end
        damaged[10] ^= 0x20
        assertRefused(damaged, "checksum")
        // Declares 4096 bytes, holds 512.
        var header = Tar.header(name: "big", kind: .file, size: 4096, mode: 0o644, mtime: 0)
        header += [UInt8](repeating: 1, count: 512)
        assertRefused(header, "ends before them")
        assertRefused(Array(entry("index.json", content: [1]).prefix(300)), "ends inside a header")
        assertRefused(entry("index.json", content: [1]), "ends inside a header")
        assertRefused([UInt8](repeating: 0x41, count: 1024), "checksum")
    }

    func testAnEmptyArchiveHasNoEntries() throws {
        XCTAssertEqual(try entries(bytes: end), [])
    }
}
