// Text format 0.0.4 spelling: escaping and number formatting, shared by every family.

enum PrometheusExposition {
    static func appendHeader(name: String, help: String, kind: MetricKind, into out: inout String) {
        out += "# HELP \(name) \(escapeHelp(help))\n"
        out += "# TYPE \(name) \(kind.rawValue)\n"
    }

    /// `name{l1="v1",l2="v2"} value`; `extra` is a trailing label such as histogram's `le`.
    static func appendSample(
        name: String, labelNames: [String], labelValues: [String], extra: (name: String, value: String)? = nil,
        value: String, into out: inout String
    ) {
        out += name
        if !labelNames.isEmpty || extra != nil {
            out += "{"
            var first = true
            for (label, labelValue) in zip(labelNames, labelValues) {
                if !first { out += "," }
                first = false
                out += "\(label)=\"\(escapeLabelValue(labelValue))\""
            }
            if let extra {
                if !first { out += "," }
                out += "\(extra.name)=\"\(escapeLabelValue(extra.value))\""
            }
            out += "}"
        }
        out += " \(value)\n"
    }

    /// Integers print without a fraction; others use Swift's shortest round-tripping form, which Go's
    /// ParseFloat (Prometheus's parser) reads back exactly. Non-finite values have fixed spellings.
    static func format(_ value: Double) -> String {
        if value.isNaN { return "NaN" }
        if value == .infinity { return "+Inf" }
        if value == -.infinity { return "-Inf" }
        // Below 2^53 every integral Double converts to Int64 exactly.
        if value == value.rounded(.towardZero) && value.magnitude < 9_007_199_254_740_992 {
            return String(Int64(value))
        }
        return value.description
    }

    static func format(_ value: UInt64) -> String {
        String(value)
    }

    /// HELP text escapes only backslash and newline.
    static func escapeHelp(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A }) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// Label values escape backslash, double quote and newline.
    static func escapeLabelValue(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x5C || $0 == 0x0A || $0 == 0x22 }) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\"": escaped += "\\\""
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
