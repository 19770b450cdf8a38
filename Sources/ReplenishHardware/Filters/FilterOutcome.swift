/// What one raw sample became: every stage's output (for `replenishd probe`), the verdict, and the
/// value for the ledger, which exists only when the verdict is `plausible`.
public struct FilterOutcome: Sendable, Equatable {
    /// The sample as the source delivered it.
    public var raw: Double
    /// Monotonic seconds at which it was taken.
    public var at: Double
    /// The stages that ran, in order; a chain stops at the first stage that withholds the value.
    public var stages: [FilterStageOutput]
    public var verdict: SampleVerdict

    /// The filtered value for the ledger; nil unless the sample is plausible.
    public var value: Double? {
        guard verdict == .plausible else { return nil }
        return stages.last?.value ?? raw
    }

    public init(raw: Double, at: Double, stages: [FilterStageOutput], verdict: SampleVerdict) {
        self.raw = raw
        self.at = at
        self.stages = stages
        self.verdict = verdict
    }
}

/// One stage's result for one sample.
public struct FilterStageOutput: Sendable, Equatable {
    public var filter: SensorFilter
    /// What the stage passed on; nil when it withheld the sample.
    public var value: Double?
    public var note: FilterNote?

    public init(filter: SensorFilter, value: Double?, note: FilterNote? = nil) {
        self.filter = filter
        self.value = value
        self.note = note
    }
}

/// Something a stage did that `probe` and the journal should show.
public enum FilterNote: Sendable, Equatable {
    /// `clamp` moved the value to a bound.
    case clamped
    /// `delta` took its first sample (or its first after a reset) as the baseline.
    case baseline
    /// `delta` followed the counter across its modulus.
    case counterWrapped
    /// `delta` saw the counter fall and restarted from the new value.
    case counterReset
    /// `plausibility` rejected the sample.
    case rejected(reason: String)
}

/// Whether a sample may feed the ledger, and what it says about the sensor's health.
public enum SampleVerdict: Sendable, Equatable {
    /// The value is trustworthy.
    case plausible
    /// No value yet, and nothing wrong (`delta` setting its baseline); neutral for health.
    case settling
    /// The sample cannot be true; it never reaches the ledger and counts against health.
    case implausible(reason: String)
}
