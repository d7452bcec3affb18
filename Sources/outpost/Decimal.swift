// Fixed-point number formatting for CLI output (no Foundation formatters in the static binary).

extension Double {
    /// The value rounded to `digits` decimals, e.g. 3.14159.fixed(2) == "3.14".
    func fixed(_ digits: Int) -> String {
        guard isFinite else { return description }
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(self) * scale).rounded()
        guard scaled < 9e18 else { return description }
        let whole = Int(scaled)
        let integerPart = whole / Int(scale)
        var fraction = String(whole % Int(scale))
        while fraction.count < digits { fraction = "0" + fraction }
        let sign = self < 0 && scaled != 0 ? "-" : ""
        return digits == 0 ? "\(sign)\(integerPart)" : "\(sign)\(integerPart).\(fraction)"
    }
}
