// ISO-8601 UTC timestamps with milliseconds, computed without a date library.

enum UTCTimestamp {
    /// `2026-11-23T06:50:04.123Z`. Rounds to the nearest millisecond (a Double near 1.8e9 carries about 0.2 µs,
    /// so truncating would print .122 for a value meant as .123). Clamped to years 0000–9999.
    static func format(secondsSinceEpoch seconds: Double) -> String {
        let lowest = -62_167_219_200_000.0  // 0000-01-01T00:00:00.000Z in milliseconds
        let highest = 253_402_300_799_999.0  // 9999-12-31T23:59:59.999Z
        let millis = seconds.isNaN ? 0 : min(max((seconds * 1000).rounded(), lowest), highest)
        let totalMillis = Int64(millis)

        let (days, millisOfDay) = floorDivide(totalMillis, 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        let hour = millisOfDay / 3_600_000
        let minute = millisOfDay / 60_000 % 60
        let second = millisOfDay / 1000 % 60
        let milli = millisOfDay % 1000

        var out = ""
        out.reserveCapacity(24)
        out += pad(year, 4) + "-" + pad(month, 2) + "-" + pad(day, 2)
        out += "T" + pad(hour, 2) + ":" + pad(minute, 2) + ":" + pad(second, 2) + "." + pad(milli, 3) + "Z"
        return out
    }

    /// Howard Hinnant's civil_from_days: days since 1970-01-01 to a proleptic Gregorian (year, month, day).
    /// Works in 400-year eras of 146097 days so leap rules are arithmetic, not tables.
    static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468  // shift the epoch to 0000-03-01, so the leap day ends each year
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097  // [0, 146096]
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365  // [0, 399]
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)  // [0, 365], from March 1
        let shiftedMonth = (5 * dayOfYear + 2) / 153  // [0, 11], March = 0
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day)
    }

    private static func floorDivide(_ a: Int64, _ b: Int64) -> (quotient: Int64, remainder: Int64) {
        let q = a / b
        let r = a % b
        return r < 0 ? (q - 1, r + b) : (q, r)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let digits = String(value)
        return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
    }
}
