/// A configured filter with the state it carries from sample to sample.
enum FilterStage: Sendable {
    case calibrate(Calibration)
    case median(MedianWindow)
    case clamp(min: Double?, max: Double?)
    case delta(CounterDelta)
    case plausibility(PlausibilityCheck)

    enum Step: Equatable {
        case pass(Double, FilterNote?)
        case settle(FilterNote)
        case reject(String)
    }

    init(_ filter: SensorFilter, index: Int) throws(HardwareError) {
        switch filter {
        case let .calibrate(points):
            self = .calibrate(try Calibration(points, index: index))
        case let .median(window):
            guard (1...99).contains(window) else {
                throw HardwareError.invalidFilter(index: index, "median window must be 1...99, not \(window)")
            }
            self = .median(MedianWindow(window: window))
        case let .clamp(min, max):
            guard min != nil || max != nil else { throw HardwareError.invalidFilter(index: index, "clamp needs a min, a max or both") }
            guard min?.isFinite ?? true, max?.isFinite ?? true else {
                throw HardwareError.invalidFilter(index: index, "clamp bounds must be finite numbers")
            }
            if let min, let max, min > max {
                throw HardwareError.invalidFilter(index: index, "clamp min \(min) is above max \(max)")
            }
            self = .clamp(min: min, max: max)
        case let .delta(modulus):
            if let modulus, !(modulus.isFinite && modulus > 0) {
                throw HardwareError.invalidFilter(index: index, "delta modulus must be a positive number, not \(modulus)")
            }
            self = .delta(CounterDelta(modulus: modulus))
        case let .plausibility(limits):
            self = .plausibility(try PlausibilityCheck(limits, index: index))
        }
    }

    /// Applies the stage to `value`; `raw` is the source's sample (for stuck detection).
    mutating func apply(_ value: Double, raw: Double, at time: Double) -> Step {
        switch self {
        case let .calibrate(calibration):
            return .pass(calibration.value(forRaw: value), nil)
        case var .median(window):
            let median = window.add(value)
            self = .median(window)
            return .pass(median, nil)
        case let .clamp(min, max):
            var clamped = value
            if let min, clamped < min { clamped = min }
            if let max, clamped > max { clamped = max }
            return .pass(clamped, clamped == value ? nil : .clamped)
        case var .delta(counter):
            let step = counter.add(value)
            self = .delta(counter)
            return step
        case var .plausibility(check):
            let step = check.judge(value, raw: raw, at: time)
            self = .plausibility(check)
            return step
        }
    }

    /// Forgets everything seen so far (a new consumable was inserted).
    mutating func reset() {
        switch self {
        case .calibrate, .clamp: break
        case let .median(window): self = .median(MedianWindow(window: window.window))
        case let .delta(counter): self = .delta(CounterDelta(modulus: counter.modulus))
        case let .plausibility(check): self = .plausibility(PlausibilityCheck(check.limits))
        }
    }
}
