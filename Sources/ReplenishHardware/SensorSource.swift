import FoundationEssentials
import ReplenishCore

/// A driver that reads one slot. Sampling may block (a bus transfer), so callers run it off the
/// cooperative thread pool.
public protocol SensorSource: Sendable {
    /// The slot this source reads.
    var slot: String { get }
    /// How often the agent samples it, in seconds of the agent's clock.
    var sampleIntervalSeconds: Double { get }
    /// Takes one sample at `now`: what happened since the previous sample, oldest first.
    func sample(at now: Date) throws -> [Observation]
    /// Starts what runs between samples (an edge-watching thread); called once before sampling.
    func start() throws
    /// Stops it and joins its thread; called once at shutdown, after the last sample.
    func stop()
}

extension SensorSource {
    /// Most sources do all their work in `sample(at:)`.
    public func start() throws {}
    public func stop() {}
}
