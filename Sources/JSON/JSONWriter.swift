// Encodable values to compact JSON text (sorted keys, slashes unescaped). One writer serves a whole stream of
// values, so a streamed answer does not build an encoder per chunk; a writer is not for concurrent use.
import FoundationEssentials

public final class JSONWriter {
    private let encoder = JSONEncoder()

    /// `pretty` indents objects and arrays, one member per line (files people read, such as a bundle manifest).
    public init(pretty: Bool = false) {
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
    }

    /// The value as JSON text; "{}" for a value that cannot be encoded (a non-finite float).
    public func string(_ value: some Encodable) -> String {
        guard let data = try? encoder.encode(value) else { return "{}" }
        return String(decoding: data, as: UTF8.self)
    }

    /// One value with a writer of its own.
    public static func encode(_ value: some Encodable) -> String { JSONWriter().string(value) }
}
