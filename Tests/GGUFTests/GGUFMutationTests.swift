// Damages the real model's header thousands of times (seeded, so a failure reproduces) and checks that every
// parse either succeeds with a consistent directory or throws a GGUFError: never a trap, never a huge allocation.
import Glibc
import GGUF
import TestKit
import XCTest

final class GGUFMutationTests: XCTestCase {
    /// A GGUF header followed by a zero-filled data section of the real size. The section comes from calloc,
    /// whose large blocks are fresh mappings: its pages are never touched, so it costs no memory.
    final class SparseFile {
        let base: UnsafeMutableRawPointer
        let count: Int
        let headerCount: Int

        init(header: [UInt8], totalCount: Int) {
            precondition(totalCount >= header.count)
            base = calloc(totalCount, 1)!
            count = totalCount
            headerCount = header.count
            header.withUnsafeBytes { base.copyMemory(from: $0.baseAddress!, byteCount: header.count) }
        }

        deinit { free(base) }

        func bytes(length: Int? = nil) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(start: base, count: length ?? count)
        }
    }

    /// The real header with every array longer than `keep` cut to its first `keep` elements, and the real tensor
    /// directory (names, types, shapes, offsets) unchanged. Small enough to parse thousands of times in a debug
    /// build, and still the real file's structure byte for byte where it matters.
    static func reducedRealFile(keep: Int) throws -> SparseFile {
        let real = try RealModel.open()
        var writer = GGUFTestWriter(version: real.version)
        for (key, value) in real.metadata {
            if case .array(let array) = value, array.count > keep {
                writer.add(key, .array(prefix(array, keep)))
            } else {
                writer.add(key, value)
            }
        }
        writer.tensors = real.tensors.map { tensor in
            var entry = TestTensor(tensor.name, tensor.type, tensor.dimensions, offset: UInt64(tensor.offset - real.dataOffset))
            entry.omitData = true
            return entry
        }
        let header = writer.header()
        return SparseFile(header: header, totalCount: header.count + real.bytes.count - real.dataOffset)
    }

    static func prefix(_ array: GGUFArray, _ keep: Int) -> GGUFArray {
        switch array {
        case .strings(let a): .strings(Array(a.prefix(keep)))
        case .float32s(let a): .float32s(Array(a.prefix(keep)))
        case .int32s(let a): .int32s(Array(a.prefix(keep)))
        default: array
        }
    }

    func testReducedRealFileParses() throws {
        let sparse = try Self.reducedRealFile(keep: 512)
        let file = try GGUFFile(bytes: sparse.bytes(), owner: sparse)
        XCTAssertEqual(file.tensors.count, 236)
        XCTAssertEqual(try file.strings("tokenizer.ggml.tokens").count, 512)
        XCTAssertEqual(file.tensor("token_embd.weight")?.byteCount, 178_257_920)
    }

    func testRandomDamageToTheRealHeader() throws {
        let sparse = try Self.reducedRealFile(keep: 512)
        var random = SplitMix64(seed: 0x6767_7566)
        var outcomes = (parsed: 0, rejected: 0)
        let start = ContinuousClock.now
        for iteration in 0..<3000 {
            outcomes = mutateAndParse(sparse, random: &random, iteration: iteration, counts: outcomes)
        }
        print("GGUF mutation: \(outcomes.parsed) parsed, \(outcomes.rejected) rejected in \(ContinuousClock.now - start)")
        XCTAssertGreaterThan(outcomes.rejected, 1000, "most damage must be caught")
        XCTAssertGreaterThan(outcomes.parsed, 50, "damage inside strings and values leaves a valid file")
    }

    /// A few rounds on the untouched real header, 262,144-token vocabulary and all.
    func testRandomDamageToTheFullRealHeader() throws {
        let real = try RealModel.open()
        let sparse = SparseFile(header: Array(real.bytes[0..<real.dataOffset]), totalCount: real.bytes.count)
        var random = SplitMix64(seed: 270)
        var outcomes = (parsed: 0, rejected: 0)
        for iteration in 0..<24 {
            outcomes = mutateAndParse(sparse, random: &random, iteration: iteration, counts: outcomes)
        }
        XCTAssertEqual(outcomes.parsed + outcomes.rejected, 24)
    }

    /// One mutation: flip bytes, overwrite a word with a hostile value, or cut the file short; parse; restore.
    private func mutateAndParse(
        _ sparse: SparseFile, random: inout SplitMix64, iteration: Int, counts: (parsed: Int, rejected: Int)
    ) -> (parsed: Int, rejected: Int) {
        let header = sparse.headerCount
        var saved: [(Int, UInt8)] = []
        func poke(_ position: Int, _ byte: UInt8) {
            saved.append((position, sparse.base.load(fromByteOffset: position, as: UInt8.self)))
            sparse.base.storeBytes(of: byte, toByteOffset: position, as: UInt8.self)
        }
        var length = sparse.count
        switch random.next(below: 4) {
        case 0:
            for _ in 0..<(1 + random.next(below: 4)) {
                poke(random.next(below: header), UInt8(truncatingIfNeeded: random.next()))
            }
        case 1:
            // Structure sits mostly near the start (counts, keys, types) and in the tensor directory at the end.
            let near = random.next(below: 2) == 0 ? random.next(below: min(header, 2048)) : header - 1 - random.next(below: min(header, 12_000))
            let hostile: [UInt64] = [0, 1, .max, 1 << 63, 1 << 32, 0xFFFF_FFFF, 5, 13, 256, UInt64(header)]
            let value = hostile[random.next(below: hostile.count)]
            for byte in 0..<min(8, header - near) { poke(near + byte, UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte)))) }
        case 2:
            length = random.next(below: header + 64)
        default:
            length = header + random.next(below: sparse.count - header + 1)
            poke(random.next(below: header), UInt8(truncatingIfNeeded: random.next()))
        }
        defer { for (position, byte) in saved.reversed() { sparse.base.storeBytes(of: byte, toByteOffset: position, as: UInt8.self) } }

        let file: GGUFFile
        do {
            file = try GGUFFile(bytes: sparse.bytes(length: length), owner: sparse)
        } catch {
            XCTAssertTrue((0...length).contains(error.offset), "iteration \(iteration): \(error)")
            XCTAssertFalse(error.field.isEmpty, "iteration \(iteration)")
            XCTAssertFalse(error.message.isEmpty, "iteration \(iteration)")
            return (counts.parsed, counts.rejected + 1)
        }
        checkConsistent(file, length: length, iteration: iteration)
        return (counts.parsed + 1, counts.rejected)
    }

    /// What a successful parse promises, whatever the input was.
    private func checkConsistent(_ file: GGUFFile, length: Int, iteration: Int) {
        XCTAssertTrue(file.alignment > 0 && file.alignment & (file.alignment - 1) == 0, "iteration \(iteration)")
        XCTAssertEqual(file.dataOffset % file.alignment, 0, "iteration \(iteration)")
        var previousEnd = 0
        for tensor in file.tensors.sorted(by: { $0.offset < $1.offset }) {
            XCTAssertGreaterThanOrEqual(tensor.offset, max(previousEnd, file.dataOffset), "iteration \(iteration): \(tensor)")
            XCTAssertLessThanOrEqual(tensor.offset + tensor.byteCount, length, "iteration \(iteration): \(tensor)")
            XCTAssertEqual((tensor.offset - file.dataOffset) % file.alignment, 0, "iteration \(iteration)")
            XCTAssertTrue((1...4).contains(tensor.dimensions.count), "iteration \(iteration)")
            XCTAssertEqual(tensor.type.rowBytes(tensor.dimensions[0]).map { $0 * tensor.rows }, tensor.byteCount)
            XCTAssertEqual(file.tensor(tensor.name), tensor)
            XCTAssertEqual(file.data(tensor).count, tensor.byteCount)
            previousEnd = tensor.offset + tensor.byteCount
        }
        XCTAssertEqual(Set(file.metadata.map(\.key)).count, file.metadata.count, "iteration \(iteration): duplicate keys")
    }
}

