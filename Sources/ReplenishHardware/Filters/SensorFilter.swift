/// One stage of a slot's filter chain, applied in the order the config lists them.
public enum SensorFilter: Sendable, Equatable {
    /// Raw value to slot unit. Two points: the straight line through them, extrapolated on both
    /// sides. More points: piecewise linear between neighbours sorted by raw value, and beyond the
    /// outermost points the end segments are extrapolated (follow with `clamp` to bound the result;
    /// clamping here would hide a sensor drifting out of its range from `plausibility`).
    case calibrate(points: [CalibrationPoint])
    /// Median of the last `window` values (1...99). An even window averages the two middle values;
    /// until the window has filled, the median of the values seen so far.
    case median(window: Int)
    /// Forces the value into `min...max` (either bound may be absent). Use it for noise around the
    /// ends of a range; values that must not happen belong in `plausibility` instead.
    case clamp(min: Double?, max: Double?)
    /// Turns a counter into the quantity counted since the previous sample (page counter, totaliser
    /// register). The first sample only sets the baseline and yields no value. A counter that wraps
    /// at `modulus` is followed across the wrap; a fall that is not a wrap is a counter reset: the
    /// baseline restarts and the stage yields 0, never negative use.
    case delta(modulus: Double?)
    /// Rejects values that cannot be true; a rejected sample yields no value and counts against the
    /// slot's health.
    case plausibility(PlausibilityLimits)
}

/// A raw reading and the value it stands for, measured at the bench.
public struct CalibrationPoint: Sendable, Equatable {
    public var raw: Double
    public var value: Double

    public init(raw: Double, value: Double) {
        self.raw = raw
        self.value = value
    }
}

/// What `plausibility` checks; each check is off when its setting is nil.
public struct PlausibilityLimits: Sendable, Equatable {
    /// Values below this are impossible (a level below empty, beyond sensor noise).
    public var minValue: Double?
    /// Values above this are impossible (more than the container holds).
    public var maxValue: Double?
    /// Fastest possible rise in units per second of monotonic time. Nil allows any rise, which is
    /// what a level sensor wants: a refill is a legitimate jump.
    public var maxRisePerSecond: Double?
    /// Fastest possible fall in units per second (how fast the appliance can draw).
    public var maxFallPerSecond: Double?
    /// Opt-in dead-converter check: the raw sample (the source's value, before any stage) staying
    /// within `stuckTolerance` of the same value for this many samples in a row is implausible.
    /// Only for sources whose raw signal always carries noise (an ADC on an analogue sensor); a
    /// level on an idle appliance legitimately stays constant for days, so it is off by default.
    public var stuckAfter: Int?
    /// How far raw samples may wander and still count as the same value; 0 means bit-identical.
    public var stuckTolerance: Double

    public init(minValue: Double? = nil, maxValue: Double? = nil,
                maxRisePerSecond: Double? = nil, maxFallPerSecond: Double? = nil,
                stuckAfter: Int? = nil, stuckTolerance: Double = 0) {
        self.minValue = minValue
        self.maxValue = maxValue
        self.maxRisePerSecond = maxRisePerSecond
        self.maxFallPerSecond = maxFallPerSecond
        self.stuckAfter = stuckAfter
        self.stuckTolerance = stuckTolerance
    }
}
