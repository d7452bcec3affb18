import GGUF
import XCTest

/// The typed lookups: which types each accepts, and errors that name the key.
final class GGUFMetadataAccessorTests: XCTestCase {
    private static let file: GGUFFile = {
        let writer = GGUFTestWriter(metadata: [
            ("name", .string("Gemma")),
            ("u8", .uint8(200)), ("i8", .int8(-3)), ("u16", .uint16(60000)), ("i16", .int16(-300)),
            ("u32", .uint32(32768)), ("i32", .int32(-7)), ("u64", .uint64(1 << 40)), ("i64", .int64(-(1 << 40))),
            ("u64.max", .uint64(.max)),
            ("f32", .float32(1e-6)), ("f64", .float64(10000.5)), ("flag", .bool(true)),
            ("tokens", .array(.strings(["<pad>", "<eos>"]))),
            ("scores", .array(.float32s([-1000, 0.5]))), ("scores.f64", .array(.float64s([0.25]))),
            ("types", .array(.int32s([3, 1]))), ("ids.u64", .array(.uint64s([1, 2]))),
            ("ids.u64.big", .array(.uint64s([1, .max]))), ("ids.u8", .array(.uint8s([9]))),
            ("flags", .array(.bools([true]))),
        ])
        do { return try GGUFFile(bytes: writer.build()) } catch { fatalError("\(error)") }
    }()

    func testStringsAndBools() throws {
        let file = Self.file
        XCTAssertEqual(try file.string("name"), "Gemma")
        XCTAssertEqual(try file.bool("flag"), true)
        XCTAssertEqual(try file.strings("tokens"), ["<pad>", "<eos>"])
        assertLookupFails(try file.string("u32"), key: "u32", message: "expected a string, found u32")
        assertLookupFails(try file.bool("u8"), key: "u8", message: "expected a bool, found u8")
        assertLookupFails(try file.strings("scores"), key: "scores", message: "expected an array of strings, found arr[f32]")
        assertLookupFails(try file.strings("name"), key: "name", message: "found str")
    }

    func testIntegersOfEveryWidth() throws {
        let file = Self.file
        let expected = ["u8": 200, "i8": -3, "u16": 60000, "i16": -300, "u32": 32768, "i32": -7, "u64": 1 << 40, "i64": -(1 << 40)]
        for (key, value) in expected { XCTAssertEqual(try file.integer(key), value, key) }
        assertLookupFails(try file.integer("u64.max"), key: "u64.max", message: "value 18446744073709551615 does not fit in Int")
        assertLookupFails(try file.integer("f32"), key: "f32", message: "expected an integer, found f32")
        assertLookupFails(try file.integer("flag"), key: "flag", message: "found bool")
    }

    func testFloatsAcceptIntegersAndDoubles() throws {
        let file = Self.file
        XCTAssertEqual(try file.float("f32"), 1e-6)
        XCTAssertEqual(try file.float("f64"), 10000.5)
        XCTAssertEqual(try file.float("u32"), 32768)
        XCTAssertEqual(try file.float("i8"), -3)
        assertLookupFails(try file.float("name"), key: "name", message: "expected a number, found str")
    }

    func testArrays() throws {
        let file = Self.file
        XCTAssertEqual(try file.floats("scores"), [-1000, 0.5])
        XCTAssertEqual(try file.floats("scores.f64"), [0.25])
        XCTAssertEqual(try file.floats("types"), [3, 1])
        XCTAssertEqual(try file.integers("types"), [3, 1])
        XCTAssertEqual(try file.integers("ids.u64"), [1, 2])
        XCTAssertEqual(try file.integers("ids.u8"), [9])
        assertLookupFails(try file.integers("ids.u64.big"), key: "ids.u64.big", message: "element 1 (18446744073709551615) does not fit in Int")
        assertLookupFails(try file.integers("scores"), key: "scores", message: "expected an array of integers, found arr[f32]")
        assertLookupFails(try file.floats("flags"), key: "flags", message: "expected an array of numbers, found arr[bool]")
        assertLookupFails(try file.integers("u32"), key: "u32", message: "found u32")
    }

    func testMissingKeys() throws {
        let file = Self.file
        assertLookupFails(try file.integer("gemma3.block_count"), key: "gemma3.block_count", message: "missing")
        do {
            _ = try file.string("general.architecture")
            XCTFail("found a key that is not there")
        } catch {
            XCTAssertEqual(error.offset, -1)
            XCTAssertEqual(error.description, "GGUF: metadata 'general.architecture': missing")
        }
        XCTAssertNil(file["general.architecture"])
    }

    func testOptionalVariants() throws {
        let file = Self.file
        XCTAssertNil(try file.optionalString("absent"))
        XCTAssertNil(try file.optionalInteger("absent"))
        XCTAssertNil(try file.optionalFloat("absent"))
        XCTAssertNil(try file.optionalBool("absent"))
        XCTAssertNil(try file.optionalStrings("absent"))
        XCTAssertNil(try file.optionalFloats("absent"))
        XCTAssertNil(try file.optionalIntegers("absent"))
        XCTAssertEqual(try file.optionalString("name"), "Gemma")
        XCTAssertEqual(try file.optionalInteger("u16"), 60000)
        XCTAssertEqual(try file.optionalFloat("f64"), 10000.5)
        XCTAssertEqual(try file.optionalBool("flag"), true)
        XCTAssertEqual(try file.optionalStrings("tokens")?.count, 2)
        XCTAssertEqual(try file.optionalFloats("scores"), [-1000, 0.5])
        XCTAssertEqual(try file.optionalIntegers("types"), [3, 1])
        // Present but of another type is still an error, with the entry's position.
        assertLookupFails(try file.optionalInteger("name"), key: "name", message: "expected an integer, found str")
        assertLookupFails(try file.optionalBool("name"), key: "name", message: "found str")
        do {
            _ = try file.optionalFloat("tokens")
            XCTFail("an array read as a float")
        } catch {
            XCTAssertGreaterThan(error.offset, 24, "points at the entry in the file")
            XCTAssertTrue(error.message.contains("found arr[str]"), "\(error)")
        }
    }
}
