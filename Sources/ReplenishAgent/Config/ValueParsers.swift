// Parsers for the config's human-friendly scalars. Each returns nil for anything it does not
// accept exactly (negative, empty, garbage, overflow); the decoder turns nil into a diagnostic.

/// Durations such as `250ms`, `90s`, `5m`, `6h`, `2d`, `1h30m`; a plain number means seconds.
public enum DurationParser {
    private static let units: [(name: String, seconds: Double)] = [
        ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1), ("ms", 0.001),
    ]

    /// The duration in seconds, or nil. Units must appear from largest to smallest, each once.
    public static func seconds(_ text: String) -> Double? {
        if let plain = DecimalParser.value(text) { return plain }
        var rest = Substring(text)
        var total = 0.0
        var nextUnit = 0
        while !rest.isEmpty {
            let number = rest.prefix(while: { $0.isASCII && ($0.isNumber || $0 == ".") })
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix(while: { $0.isASCII && $0.isLetter })
            rest = rest.dropFirst(unit.count)
            guard let value = DecimalParser.value(String(number)),
                  let index = units.firstIndex(where: { $0.name == unit }), index >= nextUnit
            else { return nil }
            total += value * units[index].seconds
            nextUnit = index + 1
        }
        return nextUnit > 0 && total.isFinite ? total : nil
    }
}

/// Sizes such as `4MiB`, `512KiB`, `1GiB` (binary), `64kB`, `1MB` (decimal); a plain integer is bytes.
public enum SizeParser {
    private static let units: [String: Int] = [
        "B": 1,
        "kB": 1_000, "KB": 1_000, "MB": 1_000_000, "GB": 1_000_000_000,
        "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30,
    ]

    /// The size in bytes, or nil.
    public static func bytes(_ text: String) -> Int? {
        let digits = text.prefix(while: { $0.isASCII && $0.isNumber })
        guard !digits.isEmpty, let count = Int(digits) else { return nil }
        let unit = text.dropFirst(digits.count)
        guard let multiplier = unit.isEmpty ? 1 : units[String(unit)] else { return nil }
        let (bytes, overflow) = count.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : bytes
    }
}

/// Percentages such as `5%` or `12.5%`.
public enum PercentageParser {
    /// The percentage as written (`"5%"` gives 5), or nil. Values above 100 are returned; callers bound them.
    public static func percent(_ text: String) -> Double? {
        guard text.hasSuffix("%") else { return nil }
        return DecimalParser.value(String(text.dropLast()))
    }
}

/// Unsigned decimal numbers (`12`, `0.5`, `.5`, `1e3`), finite. Signs, hex, `inf` and `nan` are rejected.
enum DecimalParser {
    static func value(_ text: String) -> Double? {
        guard isDecimal(text[...]), let value = Double(text), value.isFinite else { return nil }
        return value
    }

    /// Signed variant for YAML numbers, so `-3` is read as a number and then rejected as out of range.
    static func signedValue(_ text: String) -> Double? {
        guard let first = text.first else { return nil }
        guard first == "-" || first == "+" else { return value(text) }
        guard isDecimal(text.dropFirst()), let value = Double(text), value.isFinite else { return nil }
        return value
    }

    private static func isDecimal(_ text: Substring) -> Bool {
        let mantissa = text.prefix(while: { $0 != "e" && $0 != "E" })
        let exponent = text.dropFirst(mantissa.count)
        let parts = mantissa.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.contains(where: { !$0.isEmpty }),
              parts.allSatisfy({ $0.allSatisfy(isDigit) })
        else { return false }
        guard !exponent.isEmpty else { return true }
        var digits = exponent.dropFirst()
        if digits.first == "+" || digits.first == "-" { digits = digits.dropFirst() }
        return !digits.isEmpty && digits.allSatisfy(isDigit)
    }

    private static func isDigit(_ c: Character) -> Bool { c.isASCII && c.isNumber }
}
