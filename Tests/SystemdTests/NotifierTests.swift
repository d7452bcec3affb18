import Foundation
import Glibc
import Platform
import XCTest
@testable import Systemd

/// sd_notify against a real AF_UNIX datagram socket, as systemd provides it.
final class NotifierTests: XCTestCase {
    private var path = ""
    private var fd: Int32 = -1

    override func setUp() {
        path = NSTemporaryDirectory() + "notify-\(UUID().uuidString.prefix(8)).sock"
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8) + [0])
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0)
        var timeout = timeval(tv_sec: 2, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setenv("NOTIFY_SOCKET", path, 1)
    }

    override func tearDown() {
        unsetenv("NOTIFY_SOCKET")
        unsetenv("WATCHDOG_USEC")
        unsetenv("WATCHDOG_PID")
        close(fd)
        unlink(path)
    }

    private func receive() -> String? {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer[0..<n], as: UTF8.self) : nil
    }

    func testMessagesArriveAsSent() {
        let notifier = Notifier()
        XCTAssertTrue(notifier.isEnabled)
        notifier.ready(status: "Serving on /x")
        XCTAssertEqual(receive(), "READY=1\nSTATUS=Serving on /x")
        notifier.watchdog()
        XCTAssertEqual(receive(), "WATCHDOG=1")
        notifier.stopping(status: "Draining 2 connection(s)")
        XCTAssertEqual(receive(), "STOPPING=1\nSTATUS=Draining 2 connection(s)")
    }

    func testReloadingCarriesTheMonotonicTime() throws {
        let before = Clock.monotonicNanoseconds() / 1000
        Notifier().reloading()
        let message = try XCTUnwrap(receive())
        let fields = Dictionary(uniqueKeysWithValues: message.split(separator: "\n").map {
            let parts = $0.split(separator: "=", maxSplits: 1)
            return (String(parts[0]), String(parts[1]))
        })
        XCTAssertEqual(fields["RELOADING"], "1")
        let usec = try XCTUnwrap(UInt64(fields["MONOTONIC_USEC"] ?? ""))
        XCTAssertGreaterThanOrEqual(usec, before)
        XCTAssertLessThan(usec - before, 1_000_000)
    }

    func testWatchdogIntervalFollowsTheEnvironment() {
        XCTAssertNil(Notifier().watchdogMicroseconds())
        setenv("WATCHDOG_USEC", "500000", 1)
        XCTAssertEqual(Notifier().watchdogMicroseconds(), 500_000)
        setenv("WATCHDOG_PID", String(getpid()), 1)
        XCTAssertEqual(Notifier().watchdogMicroseconds(), 500_000)
        setenv("WATCHDOG_PID", "1", 1)  // meant for another process
        XCTAssertNil(Notifier().watchdogMicroseconds())
    }

    func testWithoutNotifySocketNothingIsSent() {
        unsetenv("NOTIFY_SOCKET")
        let notifier = Notifier()
        XCTAssertFalse(notifier.isEnabled)
        notifier.ready(status: "x")
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        XCTAssertNil(receive())
    }
}

final class JournalAndListenFDsTests: XCTestCase {
    override func tearDown() {
        unsetenv("JOURNAL_STREAM")
        unsetenv("LISTEN_FDS")
        unsetenv("LISTEN_PID")
    }

    func testJournalStreamMustNameStandardError() throws {
        unsetenv("JOURNAL_STREAM")
        XCTAssertFalse(Journal.isStandardErrorJournal())
        let identity = try XCTUnwrap(FileDescriptor.standardError.deviceAndInode())
        setenv("JOURNAL_STREAM", "\(identity.device):\(identity.inode)", 1)
        XCTAssertTrue(Journal.isStandardErrorJournal())
        setenv("JOURNAL_STREAM", "\(identity.device):\(identity.inode + 1)", 1)
        XCTAssertFalse(Journal.isStandardErrorJournal())
        setenv("JOURNAL_STREAM", "garbage", 1)
        XCTAssertFalse(Journal.isStandardErrorJournal())
    }

    func testListenFDsOnlyForThisProcess() {
        XCTAssertEqual(ListenFDs.take(), [])
        setenv("LISTEN_FDS", "1", 1)
        setenv("LISTEN_PID", "1", 1)  // another process's descriptors
        XCTAssertEqual(ListenFDs.take(), [])
    }
}
