import FoundationEssentials
import ReplenishCore
import Synchronization

/// Settings of a `gpio-presence` source: a cartridge or tank switch, true (after active-low) when
/// the consumable is in place.
public struct PresenceSettings: Sendable, Equatable {
    /// YAML `quantity_on_insert`: what a newly inserted consumable holds; nil (the default) means
    /// the slot's capacity.
    public var quantityOnInsert: Double?
    /// YAML `debounce`: seconds the switch must hold a new state before it counts (default 0.2).
    public var debounceSeconds: Double

    public init(quantityOnInsert: Double? = nil, debounceSeconds: Double = 0.2) {
        self.quantityOnInsert = quantityOnInsert
        self.debounceSeconds = debounceSeconds
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [String] {
        var problems: [String] = []
        if let quantity = quantityOnInsert, !(quantity > 0 && quantity.isFinite) {
            problems.append("quantity_on_insert: expected a positive quantity")
        }
        if !(debounceSeconds >= 0 && debounceSeconds <= 10) { problems.append("debounce: expected 0 to 10 seconds") }
        return problems
    }
}

/// Turns the debounced switch into `replaced` observations, without I/O: every insertion (a
/// debounced absent-to-present change) is one replacement. The state at start is not a change,
/// so a slot that starts absent reports nothing until something is inserted.
public struct PresenceTracker: Sendable, Equatable {
    private var debouncer: EdgeDebouncer
    private let quantity: Double?
    private var insertions = 0

    /// - Parameter present: the line's state when watching starts (nil: learnt from the first edge).
    public init(settings: PresenceSettings, present: Bool?) {
        debouncer = EdgeDebouncer(debounceNanoseconds: settings.debounceSeconds.nanoseconds, level: present)
        quantity = settings.quantityOnInsert
    }

    public mutating func feed(_ events: [GPIOEdgeEvent]) {
        for event in events {
            if debouncer.feed(event) == .rose { insertions += 1 }
        }
    }

    public mutating func settle(at now: UInt64) {
        if debouncer.settle(at: now) == .rose { insertions += 1 }
    }

    /// One `.replaced` per insertion since the previous call.
    public mutating func takeObservations() -> [Observation] {
        defer { insertions = 0 }
        return Array(repeating: .replaced(quantity), count: insertions)
    }
}

/// A `gpio-presence` slot: watches the switch's edges on a dedicated thread (so a swap between
/// two samples is not missed) and reports `.replaced(quantity_on_insert)` per insertion.
/// Call `start()` before sampling and `stop()` on shutdown.
public final class PresenceSource: SensorSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: PresenceSettings
    private let level: any GPIOInput
    private let clock: DriverClock
    private let watch: Watch
    private let thread: LineEventThread

    private final class Watch: Sendable {
        struct State {
            var tracker: PresenceTracker
            var lastError: (any Error)?
        }

        let state: Mutex<State>
        init(_ tracker: PresenceTracker) { state = Mutex(State(tracker: tracker)) }
    }

    /// - Parameters:
    ///   - events: the switch's line requested for both edges.
    ///   - level: the same line's value, read once at `start()` (libgpiod reads an event line's value).
    public init(slot: String, sampleIntervalSeconds: Double, settings: PresenceSettings,
                events: any GPIOEventInput, level: any GPIOInput, clock: DriverClock = .system,
                stopLatencySeconds: Double = 0.5) {
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.level = level
        self.clock = clock
        let watch = Watch(PresenceTracker(settings: settings, present: nil))
        self.watch = watch
        thread = LineEventThread(
            input: events, timeoutSeconds: stopLatencySeconds, clock: clock, name: "presence \(slot)",
            handler: { events, now in
                watch.state.withLock { s in
                    s.tracker.feed(events)
                    s.tracker.settle(at: now)
                }
            },
            failure: { error in watch.state.withLock { $0.lastError = error } })
    }

    deinit { thread.stop() }

    /// Reads the switch's state, then watches its edges.
    public func start() throws {
        let present: Bool
        do {
            present = try level.read()
        } catch {
            throw HardwareError(.lineFailure, "reading the presence switch: \(error)", cause: error)
        }
        watch.state.withLock { $0.tracker = PresenceTracker(settings: settings, present: present) }
        thread.start()
    }

    public func stop() { thread.stop() }

    public func sample(at now: Date) throws -> [Observation] {
        let monotonic = clock.now()
        return try watch.state.withLock { s in
            if let error = s.lastError {
                s.lastError = nil
                throw HardwareError(.lineFailure, "waiting for presence switch events failed: \(error)", cause: error)
            }
            s.tracker.settle(at: monotonic)
            return s.tracker.takeObservations()
        }
    }
}
