// Name rules from the Prometheus data model, checked once at registration.

enum MetricNames {
    /// `[a-zA-Z_:][a-zA-Z0-9_:]*`
    static func isValidMetricName(_ name: String) -> Bool {
        isValid(name, allowColon: true)
    }

    /// `[a-zA-Z_][a-zA-Z0-9_]*`, and not starting with `__`, which Prometheus reserves for itself.
    static func isValidLabelName(_ name: String) -> Bool {
        isValid(name, allowColon: false) && !name.hasPrefix("__")
    }

    private static func isValid(_ name: String, allowColon: Bool) -> Bool {
        var first = true
        for byte in name.utf8 {
            let letter = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || byte == 0x5F
            let colon = allowColon && byte == 0x3A
            let digit = byte >= 0x30 && byte <= 0x39
            guard letter || colon || (digit && !first) else { return false }
            first = false
        }
        return !first
    }

    /// Preconditions shared by every family: these names come from our own source code, so a bad one is our bug.
    static func checkFamily(name: String, labelNames: [String]) {
        precondition(isValidMetricName(name), "invalid metric name '\(name)'")
        for label in labelNames {
            precondition(isValidLabelName(label), "invalid label name '\(label)' for metric '\(name)'")
        }
        precondition(Set(labelNames).count == labelNames.count, "duplicate label names \(labelNames) for '\(name)'")
    }
}
