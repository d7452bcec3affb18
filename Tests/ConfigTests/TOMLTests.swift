import XCTest
@testable import Config

/// The TOML subset: every supported form parsed to exact values, every refused form with its exact message
/// and position.
final class TOMLTests: XCTestCase {
    // MARK: Documents, keys and tables

    func testEmptyDocuments() throws {
        XCTAssertTrue(try parse("").isEmpty)
        XCTAssertTrue(try parse("\n\n  \t\n# only a comment\n   # indented comment\r\n").isEmpty)
        XCTAssertTrue(try parse("\u{FEFF}").isEmpty)
    }

    func testBareQuotedLiteralAndDottedKeys() throws {
        let document = try parse("""
            bare = 1
            bare_key-2 = 2
            1234 = 3
            "quoted key" = 4
            "ʎǝʞ" = 5
            'literal "key"' = 6
            "" = 7
            "a\\tb" = 8
            site."google.com" = 9
            fruit . color = 10
            """)
        XCTAssertEqual(document.keys, ["bare", "bare_key-2", "1234", "quoted key", "ʎǝʞ", "literal \"key\"", "", "a\tb", "site", "fruit"])
        XCTAssertEqual(document, table([
            "bare": .integer(1), "bare_key-2": .integer(2), "1234": .integer(3), "quoted key": .integer(4),
            "ʎǝʞ": .integer(5), "literal \"key\"": .integer(6), "": .integer(7), "a\tb": .integer(8),
            "site": .table(table(["google.com": .integer(9)])),
            "fruit": .table(table(["color": .integer(10)])),
        ]))
    }

    func testDottedDigitKeysAreTwoKeys() throws {
        XCTAssertEqual(try parse("3.14159 = \"pi\""), table(["3": .table(table(["14159": .string("pi")]))]))
    }

    func testTableHeaders() throws {
        let document = try parse("""
            top = true
            [server]
            socket = "/run/x.sock"
            [ models . "my-model" ]
            path = '/m.gguf'
            [models.'other']
            [empty]
            """)
        XCTAssertEqual(document.keys, ["top", "server", "models", "empty"])
        XCTAssertEqual(document, table([
            "top": .boolean(true),
            "server": .table(table(["socket": .string("/run/x.sock")])),
            "models": .table(table([
                "my-model": .table(table(["path": .string("/m.gguf")])),
                "other": .table(TOMLTable()),
            ])),
            "empty": .table(TOMLTable()),
        ]))
    }

    func testHeaderMayDefineATableNamedEarlierOnTheWayToAnother() throws {
        let document = try parse("[a.b.c]\nx = 1\n[a]\ny = 2\n[a.b]\nz = 3\n")
        XCTAssertEqual(document, table([
            "a": .table(table([
                "b": .table(table(["c": .table(table(["x": .integer(1)])), "z": .integer(3)])),
                "y": .integer(2),
            ])),
        ]))
        // The table's position moves to its own header once it has one.
        guard case .table(let a)? = document["a"] else { return XCTFail("a is not a table") }
        XCTAssertEqual(a.position(of: "b"), TOMLPosition(line: 5, column: 4))
        XCTAssertEqual(document.position(of: "a"), TOMLPosition(line: 3, column: 2))
    }

    func testDottedKeysAndSubTablesOfThem() throws {
        let document = try parse("""
            [fruit]
            apple.color = "red"
            apple.taste.sweet = true
            [fruit.apple.texture]
            smooth = true
            """)
        XCTAssertEqual(document, table([
            "fruit": .table(table([
                "apple": .table(table([
                    "color": .string("red"),
                    "taste": .table(table(["sweet": .boolean(true)])),
                    "texture": .table(table(["smooth": .boolean(true)])),
                ])),
            ])),
        ]))
    }

    func testDottedKeysMayExtendATableOnlyNamedByAHeader() throws {
        let document = try parse("[a.b.c]\n[a]\nb.d = 1\n")
        XCTAssertEqual(document, table(["a": .table(table(["b": .table(table(["c": .table(TOMLTable()), "d": .integer(1)]))]))]))
    }

    func testKeysKeepDocumentOrder() throws {
        let document = try parse("z = 1\na = 2\nm.x = 3\nb = 4\nm.y = 5\n")
        XCTAssertEqual(document.keys, ["z", "a", "m", "b"])
        XCTAssertEqual(document.entries.map(\.key), ["z", "a", "m", "b"])
        guard case .table(let m)? = document["m"] else { return XCTFail("m is not a table") }
        XCTAssertEqual(m.keys, ["x", "y"])
    }

    func testKeyAndValuePositionsCountUnicodeScalars() throws {
        let document = try parse("\n  key   =   42\n\"é\" = \"ü\"\n\t\"u\u{308}\" = 1\n[t]\n x.y = 'v'\n")
        XCTAssertEqual(document.position(of: "key"), TOMLPosition(line: 2, column: 3))
        XCTAssertEqual(document.valuePosition(of: "key"), TOMLPosition(line: 2, column: 13))
        XCTAssertEqual(document.position(of: "é"), TOMLPosition(line: 3, column: 1))
        XCTAssertEqual(document.valuePosition(of: "é"), TOMLPosition(line: 3, column: 7))
        XCTAssertEqual(document.position(of: "u\u{308}"), TOMLPosition(line: 4, column: 2))
        XCTAssertEqual(document.valuePosition(of: "u\u{308}"), TOMLPosition(line: 4, column: 9))
        XCTAssertEqual(document.position(of: "t"), TOMLPosition(line: 5, column: 2))
        XCTAssertEqual(document.valuePosition(of: "t"), TOMLPosition(line: 5, column: 2))
        guard case .table(let t)? = document["t"], case .table(let x)? = t["x"] else { return XCTFail("t.x missing") }
        XCTAssertEqual(t.position(of: "x"), TOMLPosition(line: 6, column: 2))
        XCTAssertEqual(x.position(of: "y"), TOMLPosition(line: 6, column: 4))
        XCTAssertEqual(x.valuePosition(of: "y"), TOMLPosition(line: 6, column: 8))
        XCTAssertNil(document.position(of: "missing"))
        XCTAssertNil(document["missing"])
    }

    func testByteOrderMarkIsSkippedAndNotAColumn() throws {
        let document = try parse("\u{FEFF}a = 1\n")
        XCTAssertEqual(document, table(["a": .integer(1)]))
        XCTAssertEqual(document.position(of: "a"), TOMLPosition(line: 1, column: 1))
        assertError("\u{FEFF}a = x", "t.toml:1:5: invalid value 'x'; strings must be quoted")
    }

    func testCommentsAndLineEndings() throws {
        let document = try parse("# header\r\na = 1 # trailing\r\n\r\n\tb\t=\t\"# not a comment\"\t#\t\r\nc = 'x'#tight\n[t] # after header\r\n")
        XCTAssertEqual(document, table([
            "a": .integer(1), "b": .string("# not a comment"), "c": .string("x"), "t": .table(TOMLTable()),
        ]))
        XCTAssertEqual(document.position(of: "b"), TOMLPosition(line: 4, column: 2))
    }

    // MARK: Values

    func testBasicStrings() throws {
        let document = try parse(#"""
            a = "I'm a string. \"You can quote me\". Name\tJos\u00E9\nLocation\tSF."
            b = "\b\f\r\\\U0001F600\u0000"
            c = ""
            d = "日本語 and tab	inside"
            e = "a#b = c"
            """#)
        XCTAssertEqual(document["a"], .string("I'm a string. \"You can quote me\". Name\tJosé\nLocation\tSF."))
        XCTAssertEqual(document["b"], .string("\u{8}\u{C}\r\\😀\u{0}"))
        XCTAssertEqual(document["c"], .string(""))
        XCTAssertEqual(document["d"], .string("日本語 and tab\tinside"))
        XCTAssertEqual(document["e"], .string("a#b = c"))
    }

    func testLiteralStrings() throws {
        let document = try parse(#"""
            winpath = 'C:\Users\nodejs\templates'
            quoted = 'Tom "Dubs" Preston-Werner'
            regex = '<\i\c*\s*>'
            empty = ''
            """#)
        XCTAssertEqual(document["winpath"], .string(#"C:\Users\nodejs\templates"#))
        XCTAssertEqual(document["quoted"], .string("Tom \"Dubs\" Preston-Werner"))
        XCTAssertEqual(document["regex"], .string(#"<\i\c*\s*>"#))
        XCTAssertEqual(document["empty"], .string(""))
    }

    func testIntegers() throws {
        let cases: [(String, Int64)] = [
            ("+99", 99), ("42", 42), ("0", 0), ("-17", -17), ("+0", 0), ("-0", 0),
            ("1_000", 1000), ("5_349_221", 5_349_221), ("53_49_221", 5_349_221), ("1_2_3_4_5", 12345),
            ("0xDEADBEEF", 0xDEAD_BEEF), ("0xdeadbeef", 0xDEAD_BEEF), ("0xdead_beef", 0xDEAD_BEEF), ("0x00ff", 255),
            ("0o01234567", 0o01234567), ("0o755", 0o755), ("0b11010110", 0b11010110), ("0b1_0", 2),
            ("9223372036854775807", .max), ("-9223372036854775808", .min), ("0x7FFFFFFFFFFFFFFF", .max),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try parse("v = \(text)")["v"], .integer(expected), text)
        }
    }

    func testFloats() throws {
        let cases: [(String, Double)] = [
            ("1.5", 1.5), ("-2e3", -2000), ("1_000.5", 1000.5), ("+1.0", 1), ("3.1415", 3.1415), ("-0.01", -0.01),
            ("5e+22", 5e22), ("1e06", 1e6), ("-2E-2", -0.02), ("6.626e-34", 6.626e-34), ("224_617.445_991_228", 224_617.445_991_228),
            ("0e0", 0), ("inf", .infinity), ("+inf", .infinity), ("-inf", -.infinity),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(try parse("v = \(text)")["v"], .float(expected), text)
        }
        guard case .float(let negativeZero)? = try parse("v = -0.0")["v"] else { return XCTFail("-0.0") }
        XCTAssertEqual(negativeZero, 0)
        XCTAssertEqual(negativeZero.sign, .minus)
        for text in ["nan", "+nan", "-nan"] {
            guard case .float(let value)? = try parse("v = \(text)")["v"] else { return XCTFail(text) }
            XCTAssertTrue(value.isNaN, text)
        }
        guard case .float(let negativeNaN)? = try parse("v = -nan")["v"] else { return XCTFail("-nan") }
        XCTAssertEqual(negativeNaN.sign, .minus)
    }

    func testBooleans() throws {
        XCTAssertEqual(try parse("t = true\nf = false"), table(["t": .boolean(true), "f": .boolean(false)]))
    }

    func testArrays() throws {
        let document = try parse("""
            integers = [ 1, 2, 3 ]
            colors = [ "red", 'yellow', "green" ]
            nested = [ [ 1, 2 ], [3, 4, 5], [] ]
            mixed = [ 0.1, 1, "x", true, [false] ]
            empty = []
            spaced = [

            ]
            multi = [ # comment after the bracket
              1, # one
              # a line of its own
              2,
            ]
            crlf = [1,\r\n2]
            """)
        XCTAssertEqual(document["integers"], .array([.integer(1), .integer(2), .integer(3)]))
        XCTAssertEqual(document["colors"], .array([.string("red"), .string("yellow"), .string("green")]))
        XCTAssertEqual(document["nested"], .array([
            .array([.integer(1), .integer(2)]), .array([.integer(3), .integer(4), .integer(5)]), .array([]),
        ]))
        XCTAssertEqual(document["mixed"], .array([.float(0.1), .integer(1), .string("x"), .boolean(true), .array([.boolean(false)])]))
        XCTAssertEqual(document["empty"], .array([]))
        XCTAssertEqual(document["spaced"], .array([]))
        XCTAssertEqual(document["multi"], .array([.integer(1), .integer(2)]))
        XCTAssertEqual(document["crlf"], .array([.integer(1), .integer(2)]))
        // Lines after a multi-line array are counted.
        XCTAssertEqual(document.position(of: "crlf"), TOMLPosition(line: 14, column: 1))
    }

    func testNestingUpToTheLimit() throws {
        let deepArray = "v = " + String(repeating: "[", count: 128) + String(repeating: "]", count: 128)
        var expected = TOMLValue.array([])
        for _ in 1..<128 { expected = .array([expected]) }
        XCTAssertEqual(try parse(deepArray)["v"], expected)
        let deepHeader = "[" + Array(repeating: "a", count: 128).joined(separator: ".") + "]"
        XCTAssertEqual(try parse(deepHeader).count, 1)
    }

    func testUTF8Bytes() throws {
        XCTAssertEqual(try TOML.parse(utf8: Array("a = \"é\"\n".utf8), file: "t.toml"), table(["a": .string("é")]))
        assertUTF8Error([0x61, 0x20, 0x3D, 0x20, 0x22, 0xC3, 0xA9, 0xFF, 0x22], "t.toml:1:7: file is not valid UTF-8")
        assertUTF8Error(Array("a = 1\n".utf8) + [0x62, 0xC3], "t.toml:2:2: file is not valid UTF-8")
        assertUTF8Error([0xEF, 0xBB, 0xBF, 0x61, 0xED, 0xA0, 0x80], "t.toml:1:2: file is not valid UTF-8")
    }

    func testDescriptions() throws {
        let document = try parse(#"""
            s = "q\"\\\t\u0001é"
            i = -3
            f = [1.5, inf, -inf, nan]
            b = true
            """#)
        XCTAssertEqual(document["s"]?.description, #""q\"\\\t\u0001é""#)
        XCTAssertEqual(document["i"]?.description, "-3")
        XCTAssertEqual(document["f"]?.description, "[1.5, inf, -inf, nan]")
        XCTAssertEqual(document["b"]?.description, "true")
        XCTAssertEqual(TOMLValue.table(table(["a b": .integer(1), "c": .array([])])).description, #"{"a b" = 1, c = []}"#)
        XCTAssertEqual(TOMLKey.render(["models", "my.model", "x", ""]), #"models."my.model".x."""#)
        XCTAssertEqual(TOMLError(file: "f.toml", line: 3, column: 9, message: "bad").description, "f.toml:3:9: bad")
        XCTAssertEqual(TOMLPosition(line: 2, column: 5).description, "line 2, column 5")
        let typeNames = [TOMLValue.string(""), .integer(0), .float(0), .boolean(false), .array([]), .table(TOMLTable())].map(\.typeName)
        XCTAssertEqual(typeNames, ["string", "integer", "float", "boolean", "array", "table"])
    }

    func testTableEqualityIgnoresOrderAndPositions() throws {
        XCTAssertEqual(try parse("a = 1\nb = 2"), try parse("\n\n  b=2\na   = 1"))
        XCTAssertNotEqual(try parse("a = 1\nb = 2"), try parse("a = 1\nb = 3"))
        XCTAssertNotEqual(try parse("a = 1\nb = 2"), try parse("a = 1"))
        XCTAssertNotEqual(try parse("a = 1"), try parse("b = 1"))
        XCTAssertNotEqual(try parse("a = 1"), try parse("a = 1.0"))
    }

    // MARK: Errors

    func testUnsupportedFeaturesAreNamed() {
        assertError(#"a = """x""""#, #"t.toml:1:5: multi-line strings (""") are not supported"#)
        assertError("a = '''x'''", "t.toml:1:5: multi-line literal strings (''') are not supported")
        assertError("\"\"\"k\"\"\" = 1", #"t.toml:1:1: multi-line strings (""") are not supported"#)
        assertError("a = {b = 1}", "t.toml:1:5: inline tables ({...}) are not supported")
        assertError("a = [1, {x = 1}]", "t.toml:1:9: inline tables ({...}) are not supported")
        assertError("x = 1\n  [[fruit]]\n", "t.toml:2:3: arrays of tables ([[...]]) are not supported")
        assertError("d = 1979-05-27", "t.toml:1:5: dates and times are not supported")
        assertError("t = 07:32:00", "t.toml:1:5: dates and times are not supported")
        assertError("[s]\ndt = 1979-05-27T07:32:00Z", "t.toml:2:6: dates and times are not supported")
        assertError("dt = 1979-05-27 07:32:00", "t.toml:1:6: dates and times are not supported")
    }

    func testStringErrors() {
        assertError(#"a = "x\qy""#, #"t.toml:1:7: invalid escape sequence '\q'"#)
        assertError(#"a = "\u12G4""#, #"t.toml:1:6: invalid escape sequence '\u12': \u needs 4 hex digits"#)
        assertError(#"a = "\U0001F6""#, #"t.toml:1:6: invalid escape sequence '\U0001F6': \U needs 8 hex digits"#)
        assertError(#"a = "\uD800""#, #"t.toml:1:6: invalid escape sequence '\uD800': not a Unicode scalar value"#)
        assertError(#"a = "\U00110000""#, #"t.toml:1:6: invalid escape sequence '\U00110000': not a Unicode scalar value"#)
        assertError("a = \"x\\\ny\"", #"t.toml:1:7: invalid escape sequence: '\' followed by end of line"#)
        assertError("a = \"x\\", "t.toml:1:5: unterminated string")
        assertError("a = \"abc", "t.toml:1:5: unterminated string")
        assertError("a = 'abc", "t.toml:1:5: unterminated string")
        assertError("[t]\n\n  a = \"abc\nb = 1\"", "t.toml:3:7: newline in string before its closing quote")
        assertError("a = 'abc\r\nb = 1'", "t.toml:1:5: newline in string before its closing quote")
        assertError("a = \"x\u{7}y\"", "t.toml:1:7: control character U+0007 in string; write it as an escape")
        assertError("a = \"x\ry\"", "t.toml:1:7: control character U+000D in string; write it as an escape")
        assertError("a = 'tab\tok del\u{7F}'", "t.toml:1:16: control character U+007F in string; write it as an escape")
        assertError("\"key\u{0}\" = 1", "t.toml:1:5: control character U+0000 in string; write it as an escape")
        // Columns count Unicode scalars: `é` is one column, and so is a combining accent.
        assertError(#""é" = "ü\q""#, #"t.toml:1:9: invalid escape sequence '\q'"#)
        assertError("a = \"e\u{301}\\q\"", #"t.toml:1:8: invalid escape sequence '\q'"#)
    }

    func testNumberErrors() {
        assertError("a = 9223372036854775808", "t.toml:1:5: integer '9223372036854775808' does not fit in 64 bits")
        assertError("a = -9223372036854775809", "t.toml:1:5: integer '-9223372036854775809' does not fit in 64 bits")
        assertError("a = 0x8000000000000000", "t.toml:1:5: integer '0x8000000000000000' does not fit in 64 bits")
        assertError("a = 0b1_0000000000000000000000000000000000000000000000000000000000000000", "t.toml:1:5: integer '0b1_0000000000000000000000000000000000000000000000000000000000000000' does not fit in 64 bits")
        assertError("a = 012", "t.toml:1:5: leading zeros are not allowed in '012'")
        assertError("a = -00.5", "t.toml:1:5: leading zeros are not allowed in '-00.5'")
        assertError("a = 1e400", "t.toml:1:5: float '1e400' is out of range")
        for bad in ["1__0", "1_", "_1", "1.", ".5", "1.e5", "1e", "1e+", "1._5", "0x", "0xG", "+0x10", "0b102", "0o8", "1.2.3", "-", "+", "1-2", "0X10"] {
            assertError("a = \(bad)", "t.toml:1:5: invalid number '\(bad)'")
        }
        assertError("[t]\n  port = eighty", "t.toml:2:10: invalid value 'eighty'; strings must be quoted")
        assertError("a = True", "t.toml:1:5: invalid value 'True'; strings must be quoted")
        assertError("a = infinity", "t.toml:1:5: invalid value 'infinity'; strings must be quoted")
    }

    func testKeyAndLineErrors() {
        assertError("a 1", "t.toml:1:3: expected '=' after key 'a', found '1'")
        assertError("a", "t.toml:1:2: expected '=' after key 'a', found end of file")
        assertError("[t]\nserver.\"my port\"\nx = 1", #"t.toml:2:17: expected '=' after key 'server."my port"', found end of line"#)
        assertError("a : 1", "t.toml:1:3: expected '=' after key 'a', found ':'")
        assertError("= 1", "t.toml:1:1: expected a key, found '='")
        assertError("a.= 1", "t.toml:1:3: expected a key, found '='")
        assertError("é = 1", "t.toml:1:1: expected a key, found 'é'")
        assertError("\u{7} = 1", "t.toml:1:1: expected a key, found U+0007")
        assertError("a = 1 2", "t.toml:1:7: unexpected '2' after value; expected end of line")
        assertError("a = \"x\"y", "t.toml:1:8: unexpected 'y' after value; expected end of line")
        assertError("a = [1] ]", "t.toml:1:9: unexpected ']' after value; expected end of line")
        assertError("a = 1 b = 2", "t.toml:1:7: unexpected 'b' after value; expected end of line")
        assertError("a = 1\rb = 2", "t.toml:1:6: unexpected U+000D after value; expected end of line")
        assertError("[a] b = 1", "t.toml:1:5: unexpected 'b' after table header; expected end of line")
        assertError("[a]]", "t.toml:1:4: unexpected ']' after table header; expected end of line")
        assertError("a =", "t.toml:1:4: expected a value, found end of file")
        assertError("a = \nb = 1", "t.toml:1:5: expected a value, found end of line")
        assertError("a = 1\r\nb = \r\n", "t.toml:2:5: expected a value, found end of line")
        assertError("a = # comment", "t.toml:1:5: expected a value, found '#'")
        assertError("[a", "t.toml:1:3: expected ']' to close table header, found end of file")
        assertError("[a b]", "t.toml:1:4: expected ']' to close table header, found 'b'")
        assertError("[a.b\n]", "t.toml:1:5: expected ']' to close table header, found end of line")
        assertError("[]", "t.toml:1:2: expected a key, found ']'")
        assertError("[a.]", "t.toml:1:4: expected a key, found ']'")
        assertError("a = 1 # bell \u{7}", "t.toml:1:14: control character U+0007 in comment")
        assertError("# fine\n# del \u{7F}\n", "t.toml:2:7: control character U+007F in comment")
    }

    func testTableDefinitionErrors() {
        assertError("a = 1\na = 2", "t.toml:2:1: duplicate key 'a' (first defined at line 1, column 1)")
        assertError("[t]\nx.y = 1\n x . y = 2", "t.toml:3:6: duplicate key 't.x.y' (first defined at line 2, column 3)")
        assertError("\"a\" = 1\n'a' = 2", "t.toml:2:1: duplicate key 'a' (first defined at line 1, column 1)")
        assertError("[a]\n[a]", "t.toml:2:2: table 'a' is already defined at line 1, column 2")
        assertError("[a.b]\n[a.b.c]\n[a]\n[ a . b ]", "t.toml:4:7: table 'a.b' is already defined at line 1, column 4")
        assertError("[a]\nb.c = 1\n[a.b]", "t.toml:3:4: table 'a.b' is already defined at line 2, column 1")
        assertError("a.b = 1\n[a]", "t.toml:2:2: table 'a' is already defined at line 1, column 1")
        assertError("[a.b.c]\n[a]\nb.x = 1\n[a.b]", "t.toml:4:4: table 'a.b' is already defined at line 3, column 1")
        assertError("a = 1\n[a]", "t.toml:2:2: key 'a' is already defined as an integer at line 1, column 1, so it cannot be a table")
        assertError("a = 1\n[a.b]", "t.toml:2:2: key 'a' is already defined as an integer at line 1, column 1, so it cannot be a table")
        assertError("a = \"s\"\na.b = 2", "t.toml:2:1: key 'a' is already defined as a string at line 1, column 1, so it cannot be a table")
        assertError("[a]\nb = [1]\n[a.b]", "t.toml:3:4: key 'a.b' is already defined as an array at line 2, column 1, so it cannot be a table")
        assertError("[a.b]\n[a]\nb = 1", "t.toml:3:1: key 'a.b' is already defined as a table at line 1, column 4")
        // Keys compare as Swift strings do, by canonical equivalence: a precomposed and a decomposed é are one key.
        assertError("\"\u{E9}\" = 1\n\"e\u{301}\" = 2", #"t.toml:2:1: duplicate key '"é"' (first defined at line 1, column 1)"#)
        assertError("a.b.c = 1\na.b = 2", "t.toml:2:3: key 'a.b' is already defined as a table at line 1, column 3")
        assertError("[a.b]\nx = 1\n[a]\nb.y = 2", "t.toml:4:1: table 'a.b' is already defined at line 1, column 4; dotted keys cannot add to it")
    }

    func testArrayErrors() {
        assertError("a = [1, 2", "t.toml:1:5: unterminated array")
        assertError("a = [1, # comment\n", "t.toml:1:5: unterminated array")
        assertError("x = 0\na = [\n  [1],\n  [2", "t.toml:4:3: unterminated array")
        assertError("a = [1 2]", "t.toml:1:8: expected ',' or ']' in array, found '2'")
        assertError("a = [\n  1,\n  2\n  3\n]", "t.toml:4:3: expected ',' or ']' in array, found '3'")
        assertError("a = [,]", "t.toml:1:6: expected a value, found ','")
        assertError("a = [1,,2]", "t.toml:1:8: expected a value, found ','")
        assertError("a = [1, \"x]", "t.toml:1:9: unterminated string")
    }

    func testNestingLimits() {
        let array = "a = " + String(repeating: "[", count: 129) + String(repeating: "]", count: 129)
        assertError(array, "t.toml:1:133: arrays nested more than 128 deep")
        let header = "[" + Array(repeating: "a", count: 129).joined(separator: ".") + "]"
        assertError(header, "t.toml:1:258: tables nested more than 128 deep")
        let dotted = "[t]\n" + Array(repeating: "k", count: 129).joined(separator: ".") + " = 1"
        assertError(dotted, "t.toml:2:255: tables nested more than 128 deep")
    }

    // MARK: Helpers

    private func parse(_ text: String) throws(TOMLError) -> TOMLTable {
        try TOML.parse(text, file: "t.toml")
    }

    private func assertError(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do throws(TOMLError) {
            let document = try TOML.parse(text, file: "t.toml")
            XCTFail("parsed \(TOMLValue.table(document)), expected \(expected)", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }

    private func assertUTF8Error(_ bytes: [UInt8], _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do throws(TOMLError) {
            _ = try TOML.parse(utf8: bytes, file: "t.toml")
            XCTFail("parsed invalid UTF-8", file: file, line: line)
        } catch {
            XCTAssertEqual(error.description, expected, file: file, line: line)
        }
    }
}

/// A table from literal pairs; positions are left at zero, which table equality ignores.
private func table(_ pairs: KeyValuePairs<String, TOMLValue>) -> TOMLTable {
    var result = TOMLTable()
    let nowhere = TOMLPosition(line: 0, column: 0)
    for (key, value) in pairs {
        result.append(.init(key: key, value: value, keyPosition: nowhere, valuePosition: nowhere))
    }
    return result
}
