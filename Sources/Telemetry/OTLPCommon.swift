// The parts of opentelemetry-proto's common and resource messages that logs and metrics share, in the protobuf
// JSON mapping.

enum OTLP {
    struct AnyValue: Encodable {
        let stringValue: String
    }

    struct KeyValue: Encodable {
        let key: String
        let value: AnyValue

        init(_ key: String, _ value: String) {
            self.key = key
            self.value = AnyValue(stringValue: value)
        }
    }

    struct Scope: Encodable {
        let name: String
        let version: String
    }

    struct Resource: Encodable {
        let attributes: [KeyValue]
    }

    /// The resource naming the site, from (key, value) pairs.
    static func resource(_ attributes: [(String, String)], extra: [KeyValue] = []) -> Resource {
        Resource(attributes: attributes.map { KeyValue($0.0, $0.1) } + extra)
    }
}
