import FoundationEssentials
import ReplenishCore
import ReplenishHardware

/// A slot's `SlotPipeline` as its config builds it: the daemon and `probe` keep one per slot and
/// hand it each read. Filtering, the slot's bounds and health are the pipeline's.
public struct SlotSampler: Sendable {
    public typealias SourceRead = ReplenishHardware.SourceRead

    private var pipeline: SlotPipeline

    /// `definition` gives the bounds every observation must keep; nil checks none.
    public init(source: SourceConfig, definition: SlotDefinition? = nil) {
        // The decoder built this chain already, so it cannot fail here.
        let chain = (try? FilterChain(source.filters)) ?? (try! FilterChain([]))
        pipeline = SlotPipeline(chain: chain,
                                tracker: SensorHealthTracker(faultAfter: source.health.faultAfter,
                                                             recoverAfter: source.health.recoverAfter),
                                bounds: definition)
    }

    public var health: SlotHealth { pipeline.health }

    /// Reads `source` once, blocking: call it on the source's own thread.
    public static func read(_ source: any SensorSource, at time: Date) -> Result<SourceRead, any Error> {
        SlotPipeline.read(source, at: time)
    }

    public mutating func take(_ read: Result<SourceRead, any Error>, monotonic: Double) -> SlotSample {
        pipeline.take(read, monotonic: monotonic)
    }
}
