// Known answers from the standards (RFC 6234's SHA-256 "abc", RFC 7693's BLAKE2b-512 "abc", RFC 8032's Ed25519
// test 1 and 2, RFC 7914's scrypt vector) and the properties that must hold around them.
import Sodium
import XCTest

private func hex(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex {
        let next = text.index(index, offsetBy: 2)
        bytes.append(UInt8(text[index..<next], radix: 16)!)
        index = next
    }
    return bytes
}

private func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
}

final class SodiumTests: XCTestCase {
    func testSHA256KnownAnswersAndStreaming() throws {
        XCTAssertEqual(hexString(try SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hexString(try SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        let long = Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)
        var streamed = try SHA256()
        for piece in stride(from: 0, to: long.count, by: 7) { streamed.update(Array(long[piece..<min(long.count, piece + 7)])) }
        let digest = streamed.finish()
        XCTAssertEqual(hexString(digest), "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    }

    func testBLAKE2bKnownAnswersAndLimits() throws {
        XCTAssertEqual(hexString(try BLAKE2b.hash(Array("abc".utf8))),
                       "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d17d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
        var streamed = try BLAKE2b()
        streamed.update(Array("a".utf8))
        streamed.update(Array("bc".utf8))
        let digest = streamed.finish()
        XCTAssertEqual(digest, try BLAKE2b.hash(Array("abc".utf8)))
        XCTAssertThrowsError(try BLAKE2b.hash([], byteCount: 8)) { XCTAssertTrue("\($0)".contains("16 to 64 bytes, not 8")) }
        XCTAssertNotEqual(try BLAKE2b.hash([1], key: [UInt8](repeating: 7, count: 32)), try BLAKE2b.hash([1]))
    }

    func testEd25519KnownAnswers() throws {
        // RFC 8032 section 7.1, TEST 1 (empty message) and TEST 2 (one byte, 0x72).
        let cases: [(seed: String, publicKey: String, message: String, signature: String)] = [
            ("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
             "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
             "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"),
            ("4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
             "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
             "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
        ]
        for c in cases {
            let pair = try Ed25519.keyPair(seed: try SecureBytes(copying: hex(c.seed)))
            XCTAssertEqual(hexString(pair.publicKey), c.publicKey)
            let signature = try Ed25519.sign(hex(c.message), secretKey: pair.secretKey)
            XCTAssertEqual(hexString(signature), c.signature)
            XCTAssertTrue(Ed25519.verify(signature, of: hex(c.message), publicKey: pair.publicKey))
            var tampered = signature
            tampered[10] ^= 1
            XCTAssertFalse(Ed25519.verify(tampered, of: hex(c.message), publicKey: pair.publicKey))
            XCTAssertFalse(Ed25519.verify(signature, of: hex(c.message) + [0], publicKey: pair.publicKey))
            XCTAssertFalse(Ed25519.verify(Array(signature.dropLast()), of: hex(c.message), publicKey: pair.publicKey))
        }
        let fresh = try Ed25519.keyPair()
        XCTAssertTrue(Ed25519.verify(try Ed25519.sign([1, 2, 3], secretKey: fresh.secretKey), of: [1, 2, 3], publicKey: fresh.publicKey))
    }

    func testScryptKnownAnswerAndBounds() throws {
        // RFC 7914 section 12: "password", "NaCl", N = 1024, r = 8, p = 16, 64 bytes.
        XCTAssertEqual(hexString(try Scrypt.derive(password: Array("password".utf8), salt: Array("NaCl".utf8), n: 1024, r: 8, p: 16, length: 64)),
                       "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
        let salt = [UInt8](repeating: 9, count: Scrypt.saltBytes)
        let a = try Scrypt.derive(password: Array("pw".utf8), salt: salt, opsLimit: 1 << 15, memLimit: 1 << 20, length: 32)
        let b = try Scrypt.derive(password: Array("pw".utf8), salt: salt, opsLimit: 1 << 15, memLimit: 1 << 20, length: 32)
        XCTAssertEqual(a.withUnsafeBytes { Array($0) }, b.withUnsafeBytes { Array($0) })
        XCTAssertThrowsError(try Scrypt.derive(password: [], salt: [1], opsLimit: 1, memLimit: 1, length: 32))
        XCTAssertThrowsError(try Scrypt.derive(password: [], salt: salt, opsLimit: 1 << 40, memLimit: 1 << 40, length: 32)) {
            XCTAssertTrue("\($0)".contains("out of range"))
        }
    }

    func testRandomBytesConstantTimeCompareAndSecureMemory() throws {
        let a = try Sodium.randomBytes(32), b = try Sodium.randomBytes(32)
        XCTAssertEqual(a.count, 32)
        XCTAssertNotEqual(a, b)
        XCTAssertTrue(Sodium.constantTimeEqual(a, a))
        XCTAssertFalse(Sodium.constantTimeEqual(a, b))
        XCTAssertFalse(Sodium.constantTimeEqual(a, Array(a.dropLast())))
        var secret: [UInt8] = [1, 2, 3]
        let guarded = try SecureBytes(copying: secret)
        Sodium.wipe(&secret)
        XCTAssertEqual(secret, [0, 0, 0])
        XCTAssertEqual(guarded.withUnsafeBytes { Array($0) }, [1, 2, 3])
    }

    /// draft-irtf-cfrg-xchacha-03, appendix A.3.1.
    func testXChaCha20Poly1305KnownAnswerAndTampering() throws {
        let plaintext = Array("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.".utf8)
        let ad = hex("50515253c0c1c2c3c4c5c6c7")
        let key = try SecureBytes(copying: hex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"))
        let nonce = hex("404142434445464748494a4b4c4d4e4f5051525354555657")
        let expected = hex("bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e")
            + hex("c0875924c1c7987947deafd8780acf49")
        let sealed = try XChaCha20Poly1305.seal(plaintext, additionalData: ad, nonce: nonce, key: key)
        XCTAssertEqual(hexString(sealed), hexString(expected))
        XCTAssertEqual(XChaCha20Poly1305.open(sealed, additionalData: ad, nonce: nonce, key: key), plaintext)
        var flipped = sealed
        flipped[3] ^= 1
        XCTAssertNil(XChaCha20Poly1305.open(flipped, additionalData: ad, nonce: nonce, key: key))
        XCTAssertNil(XChaCha20Poly1305.open(sealed, additionalData: ad + [0], nonce: nonce, key: key))
        XCTAssertNil(XChaCha20Poly1305.open(sealed, additionalData: ad, nonce: Array(nonce.reversed()), key: key))
        XCTAssertNil(XChaCha20Poly1305.open(Array(sealed.dropLast()), additionalData: ad, nonce: nonce, key: key))
        XCTAssertThrowsError(try XChaCha20Poly1305.seal(plaintext, additionalData: ad, nonce: Array(nonce.prefix(12)), key: key))
    }

    /// Subkeys are BLAKE2b keyed with the master key over "outpost-kdf:" + context; independent of each other.
    func testKeyDerivation() throws {
        let master = try SecureBytes(copying: Array(0..<32))
        let a = try KeyDerivation.subkey(of: master, context: "store-encryption").withUnsafeBytes { Array($0) }
        let b = try KeyDerivation.subkey(of: master, context: "store-names").withUnsafeBytes { Array($0) }
        XCTAssertNotEqual(a, b)
        XCTAssertEqual(a, try BLAKE2b.hash(Array("outpost-kdf:store-encryption".utf8), byteCount: 32, key: Array(0..<32)))
        XCTAssertEqual(try KeyDerivation.keyedDigest(Array("x".utf8), key: master), try BLAKE2b.hash(Array("x".utf8), byteCount: 32, key: Array(0..<32)))
    }
}
