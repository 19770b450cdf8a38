@testable import ReplenishHardware

/// Runs raw samples, one per second from t = 0 unless times are given, through a fresh chain.
func runChain(_ filters: [SensorFilter], _ raws: [Double], times: [Double]? = nil) throws -> [FilterOutcome] {
    var chain = try FilterChain(filters)
    let times = times ?? raws.indices.map(Double.init)
    return zip(raws, times).map { chain.process(raw: $0, at: $1) }
}

func isClose(_ a: Double?, _ b: Double?, within tolerance: Double = 1e-9) -> Bool {
    switch (a, b) {
    case (nil, nil): return true
    case let (a?, b?): return abs(a - b) <= tolerance
    default: return false
    }
}

func isImplausible(_ verdict: SampleVerdict) -> Bool {
    if case .implausible = verdict { return true }
    return false
}

extension PlausibilityLimits {
    /// A plausibility filter with only these limits set.
    static func only(min: Double? = nil, max: Double? = nil, rise: Double? = nil, fall: Double? = nil,
                     stuckAfter: Int? = nil, tolerance: Double = 0) -> SensorFilter {
        .plausibility(PlausibilityLimits(minValue: min, maxValue: max, maxRisePerSecond: rise,
                                         maxFallPerSecond: fall, stuckAfter: stuckAfter, stuckTolerance: tolerance))
    }
}
