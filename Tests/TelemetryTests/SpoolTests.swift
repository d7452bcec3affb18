// The spool against what a crash, a bad disk and a long time offline do to it: a torn tail at every byte of the
// last record, one flipped bit in a middle record, the quota reached with audit records kept, acknowledgements
// that survive a restart; and CRC-32C against its published check values.
import Foundation
import Platform
import TestKit
import XCTest

@testable import Telemetry

final class SpoolTests: XCTestCase {
    var directory: TemporaryDirectory!

    override func setUpWithError() throws {
        directory = try TemporaryDirectory(prefix: "spool")
    }

    override func tearDown() {
        directory.remove()
    }

    func testCRC32CCheckValues() {
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)  // RFC 3720, B.4
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xff, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum(Array(0...31)), 0x46DD_794E)
        let text = Array("The quick brown fox jumps over the lazy dog, again and again.".utf8)
        XCTAssertEqual(CRC32C.checksum(Array(text[20...]), continuing: CRC32C.checksum(Array(text[..<20]))), CRC32C.checksum(text))
    }

    func payload(_ i: Int) -> [UInt8] { Array("record \(i) ".utf8) + [UInt8](repeating: UInt8(i % 251), count: i % 37) }

    func testRecordsSurviveReopeningInOrder() throws {
        let path = directory.path("spool")
        do {
            let spool = try Spool(directory: path, maxBytes: 1 << 20, segmentBytes: 4096)
            for i in 0..<300 {
                try spool.append(i % 10 == 0 ? .audit : (i % 2 == 0 ? .metrics : .request), payload(i), durable: i % 10 == 0)
            }
            try spool.commit()
        }
        let spool = try Spool(directory: path, maxBytes: 1 << 20, segmentBytes: 4096)
        let records = spool.pending(limit: 1000)
        XCTAssertEqual(records.map(\.sequence), Array(1...300))
        XCTAssertEqual(records.map(\.payload), (0..<300).map(payload))
        XCTAssertEqual(records.filter { $0.kind == .audit }.count, 30)
        XCTAssertEqual(spool.status.backlogRecords, 300)
        // Appending goes on after the last sequence.
        XCTAssertEqual(try spool.append(.warning, [1]), 301)
    }

    func testATornTailAtEveryByteOfTheLastRecordKeepsEverythingBefore() throws {
        let source = directory.path("source")
        do {
            let spool = try Spool(directory: source, maxBytes: 1 << 20)
            for i in 0..<5 { try spool.append(.request, payload(i)) }
            try spool.commit()
        }
        let segment = source + "/bulk/" + (try FileSystem.listDirectory(source + "/bulk"))[0]
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
        let lastStart = whole.count - Spool.encode(sequence: 5, kind: .request, payload: payload(4)).count
        for cut in lastStart..<whole.count {
            let path = directory.path("cut-\(cut)")
            try FileManager.default.createDirectory(atPath: path + "/bulk", withIntermediateDirectories: true)
            try Data(whole[..<cut]).write(to: URL(fileURLWithPath: path + "/bulk/0000000000000001.seg"))
            let spool = try Spool(directory: path, maxBytes: 1 << 20)
            XCTAssertEqual(spool.pending().map(\.sequence), [1, 2, 3, 4], "cut at \(cut)")
            XCTAssertEqual(spool.status.corrupt, 0, "a torn tail is not a corrupt record")
            XCTAssertEqual(try FileSystem.linkStatus(path + "/bulk/0000000000000001.seg")?.size, Int64(lastStart), "cut at \(cut)")
            try spool.append(.request, [9])
            try spool.commit()
            XCTAssertEqual(try Spool(directory: path, maxBytes: 1 << 20).pending().map(\.sequence), [1, 2, 3, 4, 5])
        }
    }

    func testAFlippedBitInAMiddleRecordLosesOnlyThatRecord() throws {
        let source = directory.path("source")
        var offsets: [Int] = []
        do {
            let spool = try Spool(directory: source, maxBytes: 1 << 20)
            var position = 0
            for i in 0..<9 {
                offsets.append(position)
                position += Spool.encode(sequence: UInt64(i + 1), kind: .metrics, payload: payload(i)).count
                try spool.append(.metrics, payload(i))
            }
            try spool.commit()
        }
        let segment = source + "/bulk/" + (try FileSystem.listDirectory(source + "/bulk"))[0]
        let whole = [UInt8](try Data(contentsOf: URL(fileURLWithPath: segment)))
        // Record 5 (offset of the 5th): its marker, length, CRC, sequence, kind and payload in turn.
        for within in [0, 3, 5, 9, 12, 19, 20, 22] {
            var damaged = whole
            damaged[offsets[4] + within] ^= 0x10
            let path = directory.path("flip-\(within)")
            try FileManager.default.createDirectory(atPath: path + "/bulk", withIntermediateDirectories: true)
            try Data(damaged).write(to: URL(fileURLWithPath: path + "/bulk/0000000000000001.seg"))
            let spool = try Spool(directory: path, maxBytes: 1 << 20)
            XCTAssertEqual(spool.pending().map(\.sequence), [1, 2, 3, 4, 6, 7, 8, 9], "bit at +\(within)")
            XCTAssertEqual(spool.status.corrupt, 1, "bit at +\(within)")
        }
    }

    func testAFullSpoolDropsTheOldestBulkRecordsFirstAndCountsThem() throws {
        let spool = try Spool(directory: directory.path("spool"), maxBytes: 20_000, segmentBytes: 2_000)
        for i in 0..<20 { try spool.append(.audit, payload(i), durable: true) }
        for i in 0..<400 { try spool.append(i % 2 == 0 ? .metrics : .request, payload(i)) }
        let status = spool.status
        XCTAssertLessThanOrEqual(status.bytes, 20_000)
        let kept = spool.pending(limit: 10_000)
        XCTAssertEqual(kept.filter { $0.kind == .audit }.count, 20, "audit records are kept")
        let dropped = (status.dropped["metrics"] ?? 0) + (status.dropped["request"] ?? 0)
        XCTAssertGreaterThan(dropped, 0)
        XCTAssertEqual(kept.filter { $0.kind != .audit }.count + dropped, 400, "every bulk record is kept or counted")
        // What is kept of the bulk lane is the newest.
        XCTAssertEqual(kept.filter { $0.kind != .audit }.last?.sequence, 420)
        // Audit records push out bulk ones, never the other way round.
        for i in 0..<40 { try spool.append(.audit, payload(i), durable: true) }
        XCTAssertEqual(spool.pending(limit: 10_000).filter { $0.kind == .audit }.count, 60)
    }

    func testAcknowledgedRecordsAreNotSentAgainAfterARestart() throws {
        let path = directory.path("spool")
        do {
            let spool = try Spool(directory: path, maxBytes: 1 << 20, segmentBytes: 1_000)
            for i in 0..<100 { try spool.append(i % 4 == 0 ? .audit : .request, payload(i)) }
            try spool.commit()
            try spool.acknowledge(spool.pending(limit: 60))
            XCTAssertEqual(spool.pending(limit: 1000).first?.sequence, 61)
        }
        let spool = try Spool(directory: path, maxBytes: 1 << 20, segmentBytes: 1_000)
        XCTAssertEqual(spool.pending(limit: 1000).map(\.sequence), Array(61...100))
        XCTAssertEqual(spool.status.backlogRecords, 40)
        XCTAssertEqual(spool.status.oldestUndelivered, 61)
        // Wholly delivered segments are gone from the disk.
        let files = try FileSystem.listDirectory(path + "/bulk").count + FileSystem.listDirectory(path + "/audit").count
        XCTAssertLessThan(files, 12)
    }
}
