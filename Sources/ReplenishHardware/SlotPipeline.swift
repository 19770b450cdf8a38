import FoundationEssentials
import ReplenishCore

/// One read of a slot's source, before any filter: a raw-value driver's number in the sensor's
/// own unit, or what any other driver observed.
public enum SourceRead: Sendable, Equatable {
    /// `RawValueSource.readRaw()` and its `rawUnit` ("counts", "V", "%"), for the filter chain.
    case raw(Double, unit: String = "")
    /// `SensorSource.sample(at:)`: already in the slot's unit, filters do not apply.
    case observations([Observation])
}

/// What one sample of a slot amounted to once filtered and judged.
public struct SlotSample: Sendable, Equatable {
    /// What the ledger may see; empty when the sample was held back or said nothing new.
    public var observations: [Observation]
    public var health: SlotHealth
    /// Set only on the sample that faulted the slot or recovered it.
    public var transition: HealthTransition?

    public init(observations: [Observation], health: SlotHealth, transition: HealthTransition? = nil) {
        self.observations = observations
        self.health = health
        self.transition = transition
    }
}

/// A slot's source, filters and health as one step: each read becomes one `SlotSample`.
///
/// Raw values go through the slot's filter chain and become a level, or usage when the chain
/// turns a counter into use (`delta`); other drivers' observations pass as they are (a replacement
/// resets the chain's memory). Whatever comes out must still be possible for the slot
/// (`SlotDefinition.implausibility(of:)`). Every read, good, implausible or failed, feeds the
/// health tracker; an implausible or failed read never reaches the ledger.
public struct SlotPipeline: Sendable {
    private var chain: FilterChain
    private var tracker: SensorHealthTracker
    /// A chain with `delta` turns a counter into usage; otherwise a value is a level.
    private let yieldsUsage: Bool
    /// The slot whose bounds every observation must keep; nil checks none.
    private let bounds: SlotDefinition?

    /// `chain` as built (and checked) from the slot's filters; `tracker` as the slot's health
    /// settings and restored state make it; `bounds` the slot every observation must fit.
    public init(chain: FilterChain, tracker: SensorHealthTracker, bounds: SlotDefinition? = nil) {
        self.chain = chain
        self.tracker = tracker
        self.bounds = bounds
        yieldsUsage = chain.filters.contains { if case .delta = $0 { true } else { false } }
    }

    /// Checks the filters (`FilterChain(_:)`); health starts `ok`.
    public init(filters: [SensorFilter], faultAfter: Int = 3, recoverAfter: Int = 3,
                bounds: SlotDefinition? = nil) throws(HardwareError) {
        self.init(chain: try FilterChain(filters),
                  tracker: SensorHealthTracker(faultAfter: faultAfter, recoverAfter: recoverAfter), bounds: bounds)
    }

    public var health: SlotHealth { tracker.health }

    /// Reads `source` once, blocking: call it on the source's own thread. A raw-value driver is
    /// read raw, for the filters; any other is sampled.
    public static func read(_ source: any SensorSource, at time: Date) -> Result<SourceRead, any Error> {
        Result {
            if let raw = source as? any RawValueSource { return .raw(try raw.readRaw(), unit: raw.rawUnit) }
            return .observations(try source.sample(at: time))
        }
    }

    /// Reads `source` and takes the read: one call per sample where reading may block the caller.
    public mutating func sample(_ source: any SensorSource, at time: Date, monotonic: Double) -> SlotSample {
        take(Self.read(source, at: time), monotonic: monotonic)
    }

    /// Judges one read taken at `monotonic` seconds: filters, slot bounds, then health.
    public mutating func take(_ read: Result<SourceRead, any Error>, monotonic: Double) -> SlotSample {
        var observations: [Observation] = []
        var verdict = SampleVerdict.plausible
        switch read {
        case .failure(let error):
            let transition = tracker.recordReadError("\(error)")
            return SlotSample(observations: [], health: tracker.health, transition: transition)
        case .success(.observations(let seen)):
            observations = seen
            if seen.contains(where: { if case .replaced = $0 { true } else { false } }) { chain.reset() }
        case .success(.raw(let raw, _)):
            let outcome = chain.process(raw: raw, at: monotonic)
            verdict = outcome.verdict
            if let value = outcome.value {
                observations = [yieldsUsage ? .consumed(value) : .level(value)]
            }
        }
        // Whatever the filters let through must still be possible for this slot.
        if let bounds, let problem = observations.lazy.compactMap(bounds.implausibility).first {
            observations = []
            verdict = .implausible(reason: problem)
        }
        let transition = tracker.record(verdict)
        return SlotSample(observations: observations, health: tracker.health, transition: transition)
    }
}
