import Foundation
import ReplenishCore
import ReplenishHardware

/// What one sample of a slot amounted to once filtered and judged.
public struct SlotSample: Sendable {
    public var observations: [Observation]
    public var health: SlotHealth
    public var transition: HealthTransition?
}

/// Turns a source's reads into what the ledger may see: raw values go through the slot's filter
/// chain, and every read, good, implausible or failed, feeds the health tracker. An implausible or
/// failed read never reaches the ledger.
public struct SlotSampler: Sendable {
    private var chain: FilterChain
    private var tracker: SensorHealthTracker
    /// A chain ending in `delta` turns a counter into usage; otherwise a value is a level.
    private let yieldsUsage: Bool
    /// The slot whose bounds every observation must keep (`SlotDefinition.implausibility(of:)`).
    private let definition: SlotDefinition?

    public init(source: SourceConfig, definition: SlotDefinition? = nil) {
        self.definition = definition
        // The decoder built this chain already, so it cannot fail here.
        chain = (try? FilterChain(source.filters)) ?? (try! FilterChain([]))
        tracker = SensorHealthTracker(faultAfter: source.health.faultAfter, recoverAfter: source.health.recoverAfter)
        yieldsUsage = source.filters.contains { if case .delta = $0 { true } else { false } }
    }

    public var health: SlotHealth { tracker.health }

    /// Reads `source` once, blocking: call it on the source's own thread.
    public static func read(_ source: any SensorSource, at time: Date) -> Result<SourceRead, any Error> {
        Result {
            if let raw = source as? any RawValueSource { return .raw(try raw.readRaw()) }
            return .observations(try source.sample(at: time))
        }
    }

    public enum SourceRead: Sendable {
        case raw(Double)
        case observations([Observation])
    }

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
        case .success(.raw(let raw)):
            let outcome = chain.process(raw: raw, at: monotonic)
            verdict = outcome.verdict
            if let value = outcome.value {
                observations = [yieldsUsage ? .consumed(value) : .level(value)]
            }
        }
        // Whatever the filters let through must still be possible for this slot.
        if let definition, let problem = observations.lazy.compactMap(definition.implausibility).first {
            observations = []
            verdict = .implausible(reason: problem)
        }
        let transition = tracker.record(verdict)
        return SlotSample(observations: observations, health: tracker.health, transition: transition)
    }
}
