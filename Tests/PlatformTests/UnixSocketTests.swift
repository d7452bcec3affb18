import Foundation
import Glibc
import TestKit
import XCTest
@testable import Platform

final class UnixSocketTests: XCTestCase {
    private var directory = ""

    private var temporary: TemporaryDirectory?

    override func setUpWithError() throws {
        let temporary = try TemporaryDirectory(prefix: "platform")
        self.temporary = temporary
        directory = temporary.root
    }

    override func tearDown() {
        temporary?.remove()
    }

    private func mode(of path: String) -> UInt32 {
        var info = stat()
        XCTAssertEqual(lstat(path, &info), 0)
        return UInt32(info.st_mode) & 0o777
    }

    func testListenSetsTheRequestedMode() throws {
        let path = directory + "/a.sock"
        let fd = try UnixSocket.listen(path: path, mode: 0o660)
        defer { fd.close() }
        XCTAssertEqual(mode(of: path), 0o660)
        XCTAssertTrue(UnixSocket.isListeningUnixStream(fd))
    }

    func testLiveSocketIsNotStolen() throws {
        let path = directory + "/live.sock"
        let first = try UnixSocket.listen(path: path, mode: 0o600)
        defer { first.close() }
        XCTAssertThrowsError(try UnixSocket.listen(path: path, mode: 0o600)) { error in
            XCTAssertEqual(error as? UnixSocketError, .alreadyServed(path))
        }
        // The first listener still works.
        let client = try UnixSocket.connect(path: path)
        client.close()
    }

    func testStaleSocketIsReplaced() throws {
        let path = directory + "/stale.sock"
        let first = try UnixSocket.listen(path: path, mode: 0o600)
        first.close()  // the file stays behind, nobody listens
        XCTAssertTrue(FileManager.default.fileExists(atPath: path))
        let second = try UnixSocket.listen(path: path, mode: 0o600)
        defer { second.close() }
        let client = try UnixSocket.connect(path: path)
        client.close()
    }

    func testRegularFileIsNeverRemoved() throws {
        let path = directory + "/file"
        try "keep".write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try UnixSocket.listen(path: path, mode: 0o600)) { error in
            XCTAssertEqual(error as? UnixSocketError, .notASocket(path))
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "keep")
    }

    func testTooLongPathIsAClearError() {
        let path = directory + "/" + String(repeating: "x", count: 120)
        XCTAssertThrowsError(try UnixSocket.listen(path: path, mode: 0o600)) { error in
            XCTAssertEqual(error as? UnixSocketError, .pathTooLong(path, limit: 107))
            XCTAssertTrue("\(error)".contains("longer than 107 bytes"))
        }
    }

    func testConnectToMissingSocketNamesThePath() {
        let path = directory + "/missing.sock"
        XCTAssertThrowsError(try UnixSocket.connect(path: path)) { error in
            XCTAssertEqual("\(error)", "connect \(path): No such file or directory")
        }
    }

    func testAcceptAndPeerCredentials() throws {
        let path = directory + "/peer.sock"
        let listener = try UnixSocket.listen(path: path, mode: 0o600)
        defer { listener.close() }
        try listener.setNonBlocking()
        guard case .success(nil) = UnixSocket.accept(listener) else { return XCTFail("nothing should be pending") }
        let client = try UnixSocket.connect(path: path)
        defer { client.close() }
        guard case .success(let accepted?) = UnixSocket.accept(listener) else { return XCTFail("accept failed") }
        defer { accepted.close() }
        XCTAssertEqual(UnixSocket.peerCredentials(accepted), PeerCredentials(pid: getpid(), uid: getuid(), gid: getgid()))
    }

    func testRemoveSocketFileLeavesOtherFilesAlone() throws {
        let file = directory + "/plain"
        try "x".write(toFile: file, atomically: false, encoding: .utf8)
        UnixSocket.removeSocketFile(file)
        XCTAssertTrue(FileManager.default.fileExists(atPath: file))
        let path = directory + "/gone.sock"
        try UnixSocket.listen(path: path, mode: 0o600).close()
        UnixSocket.removeSocketFile(path)
        XCTAssertFalse(FileManager.default.fileExists(atPath: path))
    }
}
