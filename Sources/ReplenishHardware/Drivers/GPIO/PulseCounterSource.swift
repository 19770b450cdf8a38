import FoundationEssentials
import ReplenishCore
import Synchronization

/// A `gpio-pulse-counter` slot: counts debounced pulses on a dedicated thread and reports
/// `.consumed(pulses × quantity_per_pulse)` for the pulses since the previous sample.
///
/// The count lives in memory; the agent's ledger persists consumption on its flush interval.
/// Call `start()` before sampling and `stop()` on shutdown.
public final class PulseCounterSource: SensorSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: PulseCounterSettings
    private let clock: DriverClock
    private let tally: Tally
    private let thread: LineEventThread

    /// What the event thread and `sample(at:)` share: one lock, taken once per batch.
    private final class Tally: Sendable {
        struct State {
            var counter: PulseCounter
            var reported: UInt64 = 0
            var lastError: (any Error)?
        }

        let state: Mutex<State>
        init(_ counter: PulseCounter) { state = Mutex(State(counter: counter)) }
    }

    /// - Parameter countedEdgeOnly: `line` was requested for the counted edge alone (see `PulseCounter`).
    /// - Parameter stopLatencySeconds: the event wait's timeout, i.e. how long `stop()` may take.
    public init(slot: String, sampleIntervalSeconds: Double, settings: PulseCounterSettings,
                line: any GPIOEventInput, countedEdgeOnly: Bool = false, clock: DriverClock = .system,
                stopLatencySeconds: Double = 0.5) {
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.clock = clock
        let tally = Tally(PulseCounter(settings: settings, countedEdgeOnly: countedEdgeOnly))
        self.tally = tally
        thread = LineEventThread(
            input: line, timeoutSeconds: stopLatencySeconds, clock: clock, name: "pulses \(slot)",
            handler: { events, now in
                // One lock per batch, not per event.
                tally.state.withLock { s in
                    s.counter.feed(events)
                    s.counter.settle(at: now)
                }
            },
            failure: { error in tally.state.withLock { $0.lastError = error } })
    }

    deinit { thread.stop() }

    public func start() { thread.start() }

    /// Stops and joins the event thread; pulses counted so far stay readable by `sample(at:)`.
    public func stop() { thread.stop() }

    /// The pulses since the previous sample as consumption; nothing when there were none.
    /// Throws (keeping the count for the next sample) when the event wait failed since the last call.
    public func sample(at now: Date) throws -> [Observation] {
        let monotonic = clock.now()
        let pulses: UInt64 = try tally.state.withLock { s in
            if let error = s.lastError {
                s.lastError = nil
                throw HardwareError(.lineFailure, "waiting for edge events failed: \(error)", cause: error)
            }
            s.counter.settle(at: monotonic)
            let new = s.counter.pulses &- s.reported
            s.reported = s.counter.pulses
            return new
        }
        return pulses == 0 ? [] : [.consumed(Double(pulses) * settings.quantityPerPulse)]
    }
}
