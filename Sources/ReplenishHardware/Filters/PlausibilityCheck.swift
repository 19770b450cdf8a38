/// Judges each value against `PlausibilityLimits`, remembering the last accepted value (for the
/// rate of change) and the current run of equal raw samples (for a stuck converter).
struct PlausibilityCheck: Sendable, Equatable {
    let limits: PlausibilityLimits
    private var lastAccepted: (value: Double, at: Double)?
    private var stuckAnchor: Double?
    private var stuckCount = 0

    init(_ limits: PlausibilityLimits) {
        self.limits = limits
    }

    init(_ limits: PlausibilityLimits, index: Int) throws(HardwareError) {
        let l = limits
        guard l.minValue != nil || l.maxValue != nil || l.maxRisePerSecond != nil
            || l.maxFallPerSecond != nil || l.stuckAfter != nil else {
            throw HardwareError.invalidFilter(index: index, "plausibility checks nothing: set min, max, maxRisePerSecond, maxFallPerSecond or stuckAfter")
        }
        for (name, bound) in [("min", l.minValue), ("max", l.maxValue)] where !(bound?.isFinite ?? true) {
            throw HardwareError.invalidFilter(index: index, "plausibility \(name) must be a finite number")
        }
        if let min = l.minValue, let max = l.maxValue, min > max {
            throw HardwareError.invalidFilter(index: index, "plausibility min \(min) is above max \(max)")
        }
        for (name, rate) in [("maxRisePerSecond", l.maxRisePerSecond), ("maxFallPerSecond", l.maxFallPerSecond)] {
            if let rate, !(rate.isFinite && rate > 0) {
                throw HardwareError.invalidFilter(index: index, "plausibility \(name) must be a positive number, not \(rate)")
            }
        }
        if let samples = l.stuckAfter, samples < 2 {
            throw HardwareError.invalidFilter(index: index, "plausibility stuckAfter must be at least 2 samples, not \(samples)")
        }
        guard l.stuckTolerance.isFinite && l.stuckTolerance >= 0 else {
            throw HardwareError.invalidFilter(index: index, "plausibility stuckTolerance must be 0 or more")
        }
        self.init(limits)
    }

    // Tuples are not Equatable; compare what defines the state.
    static func == (a: Self, b: Self) -> Bool {
        a.limits == b.limits && a.lastAccepted?.value == b.lastAccepted?.value && a.lastAccepted?.at == b.lastAccepted?.at
            && a.stuckAnchor == b.stuckAnchor && a.stuckCount == b.stuckCount
    }

    /// Rates are measured against the last accepted value, so one spike does not also reject the
    /// return to normal; a genuine jump beyond the rate limit is accepted once enough time has
    /// passed for the limit to cover it. Samples with no elapsed time are not rate-checked.
    mutating func judge(_ value: Double, raw: Double, at time: Double) -> FilterStage.Step {
        if let reason = stuckReason(raw) ?? rangeReason(value) ?? rateReason(value, at: time) {
            return .reject(reason)
        }
        lastAccepted = (value, time)
        return .pass(value, nil)
    }

    private mutating func stuckReason(_ raw: Double) -> String? {
        guard let after = limits.stuckAfter else { return nil }
        if let anchor = stuckAnchor, abs(raw - anchor) <= limits.stuckTolerance {
            stuckCount += 1
        } else {
            stuckAnchor = raw
            stuckCount = 1
        }
        guard stuckCount >= after else { return nil }
        return "raw value stuck at \(format(stuckAnchor ?? raw)) for \(stuckCount) samples"
    }

    private func rangeReason(_ value: Double) -> String? {
        if let min = limits.minValue, value < min { return "value \(format(value)) below minimum \(format(min))" }
        if let max = limits.maxValue, value > max { return "value \(format(value)) above maximum \(format(max))" }
        return nil
    }

    private func rateReason(_ value: Double, at time: Double) -> String? {
        guard let last = lastAccepted, time > last.at else { return nil }
        let rate = (value - last.value) / (time - last.at)
        if let rise = limits.maxRisePerSecond, rate > rise {
            return "rose \(format(rate)) per second, faster than \(format(rise))"
        }
        if let fall = limits.maxFallPerSecond, -rate > fall {
            return "fell \(format(-rate)) per second, faster than \(format(fall))"
        }
        return nil
    }
}

/// Short numbers for reasons in the journal and events: at most 4 decimals, no trailing zeros.
fileprivate func format(_ x: Double) -> String {
    guard x.isFinite else { return "\(x)" }
    let rounded = (x * 10_000).rounded() / 10_000
    return rounded == rounded.rounded() && abs(rounded) < 1e15 ? String(Int64(rounded)) : "\(rounded)"
}
