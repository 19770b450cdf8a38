/// Filters as the config spells them, for `replenishd probe` and the journal.
extension SensorFilter: CustomStringConvertible {
    public var description: String {
        switch self {
        case let .calibrate(points):
            "calibrate: [" + points.map { "[\(short($0.raw)), \(short($0.value))]" }.joined(separator: ", ") + "]"
        case let .median(window):
            "median: \(window)"
        case let .clamp(min, max):
            "clamp: [\(min.map(short) ?? "null"), \(max.map(short) ?? "null")]"
        case let .delta(modulus):
            modulus.map { "delta: {modulus: \(short($0))}" } ?? "delta: {}"
        case let .plausibility(l):
            "plausibility: {" + [
                l.minValue.map { "min: \(short($0))" },
                l.maxValue.map { "max: \(short($0))" },
                l.maxRisePerSecond.map { "maxRisePerSecond: \(short($0))" },
                l.maxFallPerSecond.map { "maxFallPerSecond: \(short($0))" },
                l.stuckAfter.map { "stuckAfter: \($0)" },
                l.stuckAfter == nil || l.stuckTolerance == 0 ? nil : "stuckTolerance: \(short(l.stuckTolerance))",
            ].compactMap { $0 }.joined(separator: ", ") + "}"
        }
    }
}

/// Whole numbers without ".0", so descriptions read like the config file.
private func short(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
}
