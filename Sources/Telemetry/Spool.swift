// The telemetry spool: what the agent records waits here, on disk, until the central collector has acknowledged
// it, through crashes, power cuts and days offline.
//
// Two lanes of append-only segment files under the spool directory: `audit/` (audit events: the last to be
// dropped) and `bulk/` (metric snapshots, request summaries, warnings: dropped oldest first when the spool is
// full). A record on disk:
//
//   "OPSR" | length (u32 LE, of what follows the CRC) | CRC-32C (u32 LE, of length and what follows) |
//   sequence (u64 LE, one counter across both lanes) | kind (u8) | payload
//
// At open the last segment of each lane is cut after its last whole record (a torn tail); a record in the middle
// that fails its CRC is skipped and counted, and reading goes on at the next record's marker, so nothing after it
// is lost. Each lane's delivery cursor (the highest sequence the collector acknowledged) is replaced atomically,
// and segments wholly delivered are deleted. Durable appends (audit events) are fsynced before `append` returns;
// the others are group-committed by `commit()`.
import Platform
import Synchronization

public enum SpoolKind: UInt8, Sendable, CaseIterable {
    case metrics = 1
    case request = 2
    case audit = 3
    case warning = 4

    public var name: String {
        switch self {
        case .metrics: return "metrics"
        case .request: return "request"
        case .audit: return "audit"
        case .warning: return "warning"
        }
    }

    var lane: Spool.Lane { self == .audit ? .audit : .bulk }
}

public struct SpoolRecord: Sendable, Equatable {
    public let sequence: UInt64
    public let kind: SpoolKind
    public let payload: [UInt8]
}

public struct SpoolError: Error, Sendable, Equatable, CustomStringConvertible {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

public final class Spool: Sendable {
    enum Lane: String, CaseIterable, Sendable { case audit, bulk }

    struct Segment: Sendable {
        var path: String
        var firstSequence: UInt64
        var lastSequence: UInt64
        var bytes: Int64
        var records: Int
    }

    struct State: Sendable {
        var segments: [Lane: [Segment]] = [:]
        var writers: [Lane: FileDescriptor] = [:]
        var delivered: [Lane: UInt64] = [:]
        var nextSequence: UInt64 = 1
        var totalBytes: Int64 = 0
        var dropped: [SpoolKind: Int] = [:]
        var corrupt = 0
        var unsynced: Set<Lane> = []
    }

    static let magic: [UInt8] = Array("OPSR".utf8)
    static let headerBytes = 12
    static let fixedBytes = 9
    public static let maxPayloadBytes = 1 << 20

    public let directory: String
    public let maxBytes: Int64
    let segmentBytes: Int64
    private let state: Mutex<State>

    /// Opens (or creates) the spool in `directory`, repairing what a crash left.
    public init(directory: String, maxBytes: Int64, segmentBytes: Int64 = 4 << 20) throws(SpoolError) {
        self.directory = directory
        self.maxBytes = maxBytes
        self.segmentBytes = segmentBytes
        var state = State()
        do {
            try FileSystem.makeDirectory(directory, mode: 0o700, existingIsFine: true)
            for lane in Lane.allCases {
                try FileSystem.makeDirectory(directory + "/" + lane.rawValue, mode: 0o700, existingIsFine: true)
                state.delivered[lane] = Self.readCursor(directory + "/" + lane.rawValue + ".cursor")
                var segments: [Segment] = []
                let names = try FileSystem.listDirectory(directory + "/" + lane.rawValue).filter { $0.hasSuffix(".seg") }.sorted()
                for (index, name) in names.enumerated() {
                    let path = directory + "/" + lane.rawValue + "/" + name
                    let scan = try Self.scan(path, repairTail: index == names.count - 1)
                    state.corrupt += scan.corrupt
                    guard let first = scan.records.first else {
                        try FileSystem.remove(path)
                        continue
                    }
                    segments.append(Segment(path: path, firstSequence: first.sequence, lastSequence: scan.records.last!.sequence,
                                            bytes: scan.bytes, records: scan.records.count))
                    state.nextSequence = max(state.nextSequence, scan.records.last!.sequence + 1)
                    state.totalBytes += scan.bytes
                }
                state.segments[lane] = segments
            }
        } catch let error as SpoolError {
            throw error
        } catch {
            throw SpoolError("cannot open the spool in \(directory): \(error)")
        }
        self.state = Mutex(state)
    }

    deinit {
        state.withLock { state in for fd in state.writers.values { fd.close() } }
    }

    // MARK: - Writing

    /// Appends a record; with `durable` it is on disk (fsynced) when this returns. Returns its sequence number.
    /// When the spool is full the oldest bulk records go first, audit records last; every drop is counted.
    @discardableResult
    public func append(_ kind: SpoolKind, _ payload: [UInt8], durable: Bool = false) throws(SpoolError) -> UInt64 {
        guard payload.count <= Self.maxPayloadBytes else {
            state.withLock { $0.dropped[kind, default: 0] += 1 }
            throw SpoolError("a \(kind.name) record of \(payload.count) bytes is larger than \(Self.maxPayloadBytes)")
        }
        var failure: SpoolError?
        let sequence: UInt64 = state.withLock { state in
            let lane = kind.lane
            let sequence = state.nextSequence
            let record = Self.encode(sequence: sequence, kind: kind, payload: payload)
            do throws(SpoolError) {
                try makeRoom(Int64(record.count), for: kind, in: &state)
                var segment = try currentSegment(lane, sequence: sequence, in: &state)
                do {
                    try state.writers[lane]!.writeAll(record)
                    if durable { try state.writers[lane]!.sync() } else { state.unsynced.insert(lane) }
                } catch {
                    // A partial write is cut at the next open (a torn tail); nothing before it is touched.
                    throw SpoolError("cannot write to the spool: \(error)")
                }
                segment.lastSequence = sequence
                segment.bytes += Int64(record.count)
                segment.records += 1
                state.segments[lane]![state.segments[lane]!.count - 1] = segment
                state.totalBytes += Int64(record.count)
                state.nextSequence += 1
            } catch {
                state.dropped[kind, default: 0] += 1
                failure = error
            }
            return sequence
        }
        if let failure { throw failure }
        return sequence
    }

    /// Makes every appended record durable (the group commit).
    public func commit() throws(SpoolError) {
        var failure: SpoolError?
        state.withLock { state in
            for lane in state.unsynced {
                do { try state.writers[lane]?.sync() } catch { failure = SpoolError("cannot sync the spool: \(error)") }
            }
            state.unsynced = []
        }
        if let failure { throw failure }
    }

    private func currentSegment(_ lane: Lane, sequence: UInt64, in state: inout State) throws(SpoolError) -> Segment {
        if let last = state.segments[lane]?.last, last.bytes < segmentBytes, state.writers[lane] != nil { return last }
        if let old = state.writers[lane] {
            try? old.sync()
            old.close()
            state.writers[lane] = nil
            state.unsynced.remove(lane)
        }
        if let last = state.segments[lane]?.last, last.bytes < segmentBytes {
            // Reopened after a restart: keep appending to it.
            do {
                state.writers[lane] = try FileDescriptor.open(last.path, [.writeOnly, .append, .noFollow])
            } catch {
                throw SpoolError("cannot open \(last.path): \(error)")
            }
            return last
        }
        let path = directory + "/" + lane.rawValue + "/" + Self.hex(sequence) + ".seg"
        do {
            state.writers[lane] = try FileDescriptor.open(path, [.writeOnly, .create, .append, .noFollow], mode: 0o600)
            try FileSystem.syncDirectory(directory + "/" + lane.rawValue)
        } catch {
            throw SpoolError("cannot create \(path): \(error)")
        }
        let segment = Segment(path: path, firstSequence: sequence, lastSequence: sequence - 1, bytes: 0, records: 0)
        state.segments[lane, default: []].append(segment)
        return segment
    }

    /// Drops whole segments, oldest bulk first, then oldest audit, until `bytes` more fit.
    private func makeRoom(_ bytes: Int64, for kind: SpoolKind, in state: inout State) throws(SpoolError) {
        guard bytes <= maxBytes else { throw SpoolError("a record of \(bytes) bytes cannot fit a spool of \(maxBytes)") }
        while state.totalBytes + bytes > maxBytes {
            // The bulk lane gives way first; an audit record may push out bulk records, never the reverse.
            let order: [Lane] = kind == .audit ? [.bulk, .audit] : [.bulk]
            guard let lane = order.first(where: { (state.segments[$0]?.count ?? 0) > 0 }) else {
                throw SpoolError("the spool is full of audit records; this \(kind.name) record is dropped")
            }
            let victim = state.segments[lane]!.removeFirst()
            if let writer = state.writers[lane], state.segments[lane]!.isEmpty {
                writer.close()
                state.writers[lane] = nil
                state.unsynced.remove(lane)
            }
            if let scan = try? Self.scan(victim.path, repairTail: false) {
                let delivered = state.delivered[lane] ?? 0
                for record in scan.records where record.sequence > delivered { state.dropped[record.kind, default: 0] += 1 }
            }
            try? FileSystem.remove(victim.path)
            state.totalBytes -= victim.bytes
        }
    }

    // MARK: - Reading and acknowledging

    /// Up to `limit` records not yet acknowledged, in sequence order across both lanes.
    public func pending(limit: Int = 1000) -> [SpoolRecord] {
        state.withLock { state in
            var result: [SpoolRecord] = []
            for lane in Lane.allCases {
                let delivered = state.delivered[lane] ?? 0
                for segment in state.segments[lane] ?? [] where segment.lastSequence > delivered {
                    guard let scan = try? Self.scan(segment.path, repairTail: false) else { continue }
                    result += scan.records.filter { $0.sequence > delivered }
                    if result.count >= limit * 2 { break }
                }
            }
            return Array(result.sorted { $0.sequence < $1.sequence }.prefix(limit))
        }
    }

    /// Records the collector's acknowledgement of `records`: each lane's cursor moves to the highest sequence
    /// acknowledged in it (records are sent in order), is replaced atomically, and wholly delivered segments go.
    public func acknowledge(_ records: [SpoolRecord]) throws(SpoolError) {
        var failure: SpoolError?
        state.withLock { state in
            for lane in Lane.allCases {
                guard let highest = records.filter({ $0.kind.lane == lane }).map(\.sequence).max(), highest > state.delivered[lane] ?? 0 else { continue }
                do {
                    try AtomicFile.write(Array(String(highest).utf8), to: directory + "/" + lane.rawValue + ".cursor", mode: 0o600)
                } catch {
                    failure = SpoolError("cannot record the delivery: \(error)")
                    return
                }
                state.delivered[lane] = highest
                while let first = state.segments[lane]?.first, first.lastSequence <= highest, state.segments[lane]!.count > 1 {
                    try? FileSystem.remove(first.path)
                    state.totalBytes -= first.bytes
                    state.segments[lane]!.removeFirst()
                }
            }
        }
        if let failure { throw failure }
    }

    // MARK: - Status

    public struct Status: Sendable, Equatable {
        public var backlogRecords: Int
        public var backlogBytes: Int64
        public var oldestUndelivered: UInt64?
        public var dropped: [String: Int]
        public var corrupt: Int
        public var bytes: Int64
    }

    public var status: Status {
        state.withLock { state in
            var records = 0
            var bytes: Int64 = 0
            var oldest: UInt64?
            for lane in Lane.allCases {
                let delivered = state.delivered[lane] ?? 0
                for segment in state.segments[lane] ?? [] where segment.lastSequence > delivered {
                    var first = segment.firstSequence
                    if segment.firstSequence > delivered {
                        records += segment.records
                    } else {
                        let waiting = (try? Self.scan(segment.path, repairTail: false))?.records.filter { $0.sequence > delivered } ?? []
                        records += waiting.count
                        first = waiting.first?.sequence ?? segment.lastSequence
                    }
                    bytes += segment.bytes
                    oldest = min(oldest ?? first, first)
                }
            }
            return Status(backlogRecords: records, backlogBytes: bytes, oldestUndelivered: oldest,
                          dropped: Dictionary(uniqueKeysWithValues: state.dropped.map { ($0.key.name, $0.value) }), corrupt: state.corrupt,
                          bytes: state.totalBytes)
        }
    }

    // MARK: - The format

    static func encode(sequence: UInt64, kind: SpoolKind, payload: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        body.reserveCapacity(fixedBytes + payload.count)
        for i in 0..<8 { body.append(UInt8(truncatingIfNeeded: sequence >> (8 * UInt64(i)))) }
        body.append(kind.rawValue)
        body += payload
        let length = UInt32(body.count)
        let lengthBytes = (0..<4).map { UInt8(truncatingIfNeeded: length >> (8 * UInt32($0))) }
        let crc = CRC32C.checksum(body, continuing: CRC32C.checksum(lengthBytes))
        return magic + lengthBytes + (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * UInt32($0))) } + body
    }

    struct Scan {
        var records: [SpoolRecord] = []
        var corrupt = 0
        var bytes: Int64 = 0
    }

    /// Reads a segment: whole records kept, a damaged one skipped and counted (reading resumes at the next valid
    /// record), and with `repairTail` a torn end cut off the file.
    static func scan(_ path: String, repairTail: Bool) throws -> Scan {
        let fd = try FileDescriptor.open(path, [.readWrite, .noFollow])
        defer { fd.close() }
        let size = try fd.status().size
        let bytes = try fd.read(count: Int(size), at: 0)
        var scan = Scan()
        var position = 0
        var validEnd = 0
        while position < bytes.count {
            if let (record, length) = parse(bytes, at: position) {
                scan.records.append(record)
                position += length
                validEnd = position
                continue
            }
            // Damaged here: is there a whole record further on (a damaged middle record), or only the end (torn)?
            var next = position + 1
            var found: Int?
            while next + headerBytes <= bytes.count {
                if bytes[next] == magic[0], bytes[next + 1] == magic[1], bytes[next + 2] == magic[2], bytes[next + 3] == magic[3],
                   parse(bytes, at: next) != nil {
                    found = next
                    break
                }
                next += 1
            }
            guard let found else { break }
            scan.corrupt += 1
            position = found
        }
        if validEnd < bytes.count && repairTail {
            try fd.truncate(to: Int64(validEnd))
            try fd.sync()
        }
        scan.bytes = Int64(validEnd)
        return scan
    }

    /// The record at `offset` when it is whole and its CRC matches, and its length on disk.
    static func parse(_ bytes: [UInt8], at offset: Int) -> (SpoolRecord, Int)? {
        guard offset + headerBytes + fixedBytes <= bytes.count,
              bytes[offset] == magic[0], bytes[offset + 1] == magic[1], bytes[offset + 2] == magic[2], bytes[offset + 3] == magic[3] else { return nil }
        func le32(_ at: Int) -> UInt32 { (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        let length = Int(le32(offset + 4))
        guard length >= fixedBytes, length <= maxPayloadBytes + fixedBytes, offset + headerBytes + length <= bytes.count else { return nil }
        let stored = le32(offset + 8)
        let crc = bytes.withUnsafeBytes { raw in
            CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(offset + headerBytes)..<(offset + headerBytes + length)]),
                            continuing: CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[(offset + 4)..<(offset + 8)])))
        }
        guard crc == stored else { return nil }
        let body = offset + headerBytes
        let sequence = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[body + $1]) << (8 * UInt64($1)) }
        guard let kind = SpoolKind(rawValue: bytes[body + 8]) else { return nil }
        return (SpoolRecord(sequence: sequence, kind: kind, payload: Array(bytes[(body + fixedBytes)..<(body + length)])), headerBytes + length)
    }

    static func readCursor(_ path: String) -> UInt64 {
        guard let text = try? ProcessStats.readSmallFile(path, limit: 64) else { return 0 }
        return UInt64(text.filter { $0.isNumber }) ?? 0
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }
}
