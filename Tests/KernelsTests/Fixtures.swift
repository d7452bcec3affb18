import Foundation
import GGUF

/// Reference data written by Fixtures/make_quant_fixtures.py from gguf-py (llama.cpp's quantizers in numpy).
struct QuantFixtures: Decodable {
    struct Span: Decodable {
        let offset: Int
        let length: Int
    }

    struct Format: Decodable {
        let type: UInt32
        let bytes: Span
    }

    struct Activation: Decodable {
        let name: String
        let count: Int
        let values: Span
        let formats: [Format]
    }

    struct Case: Decodable {
        let type: UInt32
        let name: String
        let count: Int
        let activation: String
        let weights: Span
        let dequantized: Span
        let dot: Double
        let dotAbs: Double
        let dotDequantized: Double
    }

    let activations: [Activation]
    let cases: [Case]
    private(set) var blob: [UInt8] = []

    private enum CodingKeys: String, CodingKey {
        case activations, cases
    }

    static func load() throws -> QuantFixtures {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
        let json = try Data(contentsOf: directory.appendingPathComponent("quant_fixtures.json"))
        var fixtures = try JSONDecoder().decode(QuantFixtures.self, from: json)
        fixtures.blob = [UInt8](try Data(contentsOf: directory.appendingPathComponent("quant_fixtures.bin")))
        return fixtures
    }

    func bytes(_ span: Span) -> [UInt8] {
        precondition(span.offset >= 0 && span.length >= 0 && span.offset + span.length <= blob.count, "fixture span")
        return Array(blob[span.offset..<(span.offset + span.length)])
    }

    func floats(_ span: Span) -> [Float] {
        let raw = bytes(span)
        return (0..<(raw.count / 4)).map { i in
            Float(bitPattern: UInt32(raw[4 * i]) | UInt32(raw[4 * i + 1]) << 8
                | UInt32(raw[4 * i + 2]) << 16 | UInt32(raw[4 * i + 3]) << 24)
        }
    }

    func activation(named name: String) -> Activation {
        guard let a = activations.first(where: { $0.name == name }) else {
            preconditionFailure("fixture activation \(name) missing")
        }
        return a
    }

    func quantizedActivation(named name: String, as type: GGMLType) -> [UInt8]? {
        activation(named: name).formats.first(where: { $0.type == type.rawValue }).map { bytes($0.bytes) }
    }
}
