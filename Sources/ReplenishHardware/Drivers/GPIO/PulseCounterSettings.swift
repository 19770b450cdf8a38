/// Settings of a `gpio-pulse-counter` source (flow meters, dispense buttons, page counters).
public struct PulseCounterSettings: Sendable, Equatable {
    /// Which edges are pulses.
    public enum Edge: String, Sendable, Equatable, CaseIterable {
        case rising, falling, both
    }

    /// YAML `edge`: `rising`, `falling` or `both` (default `rising`).
    public var edge: Edge
    /// YAML `debounce`: seconds a new level must persist before it counts (default 0.001).
    /// Must stay below the shortest stable half-period of the fastest pulse train expected.
    public var debounceSeconds: Double
    /// YAML `quantity_per_pulse`: slot units per counted edge (e.g. 2.25 mL for a YF-S201 at 1 pulse).
    public var quantityPerPulse: Double

    public init(edge: Edge = .rising, debounceSeconds: Double = 0.001, quantityPerPulse: Double) {
        self.edge = edge
        self.debounceSeconds = debounceSeconds
        self.quantityPerPulse = quantityPerPulse
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [SettingsProblem] {
        var problems: [SettingsProblem] = []
        if !(debounceSeconds >= 0 && debounceSeconds <= 1) { problems.append(SettingsProblem("debounce", "expected 0 to 1 seconds")) }
        if !(quantityPerPulse > 0 && quantityPerPulse.isFinite) {
            problems.append(SettingsProblem("quantity_per_pulse", "expected a positive quantity"))
        }
        return problems
    }
}

/// Pulse counting over debounced edges: pure, fed with the kernel's events in batches.
public struct PulseCounter: Sendable, Equatable {
    public let edge: PulseCounterSettings.Edge
    private var debouncer: EdgeDebouncer
    /// Pulses confirmed since the counter was made.
    public private(set) var pulses: UInt64 = 0
    /// The kernel delivers only the counted edge (see `init`).
    public let countedEdgeOnly: Bool
    /// The previous event's time, for the counted-edge-only lock-out.
    private var previousEvent: UInt64?

    /// `countedEdgeOnly`: the line was requested for the counted edge alone (`rising` or
    /// `falling`). Then every event is that edge and debounce is a lock-out: an edge counts
    /// when the line was quiet for the debounce time before it. That is what a v1 line-event
    /// request (libgpiod 1.6) can be trusted for: with both edges, the kernel labels an edge by
    /// reading the line when its interrupt thread runs, so a quick pulse arrives as two falls.
    /// Otherwise both edges come, and the debouncer judges the level between them.
    public init(settings: PulseCounterSettings, countedEdgeOnly: Bool = false) {
        edge = settings.edge
        debouncer = EdgeDebouncer(debounceNanoseconds: settings.debounceSeconds.nanoseconds)
        self.countedEdgeOnly = countedEdgeOnly && settings.edge != .both
    }

    /// Feeds a batch of events, oldest first. No allocation, no logging: this runs per event.
    public mutating func feed(_ events: [GPIOEdgeEvent]) {
        guard countedEdgeOnly else {
            for event in events {
                if let transition = debouncer.feed(event) { count(transition) }
            }
            return
        }
        let quiet = debouncer.debounceNanoseconds
        for event in events {
            let counted = (edge == .rising) == (event.edge == .rising)
            if counted, previousEvent.map({ event.timestampNanoseconds &- $0 >= quiet }) ?? true { pulses &+= 1 }
            previousEvent = event.timestampNanoseconds
        }
    }

    /// Confirms a level that has held until `now` (the events' clock, CLOCK_MONOTONIC).
    public mutating func settle(at now: UInt64) {
        guard !countedEdgeOnly else { return }
        if let transition = debouncer.settle(at: now) { count(transition) }
    }

    private mutating func count(_ transition: EdgeDebouncer.Transition) {
        switch (edge, transition) {
        case (.both, _), (.rising, .rose), (.falling, .fell): pulses &+= 1
        default: break
        }
    }
}
