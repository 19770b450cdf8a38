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
    public var problems: [String] {
        var problems: [String] = []
        if !(debounceSeconds >= 0 && debounceSeconds <= 1) { problems.append("debounce: expected 0 to 1 seconds") }
        if !(quantityPerPulse > 0 && quantityPerPulse.isFinite) {
            problems.append("quantity_per_pulse: expected a positive quantity")
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

    public init(settings: PulseCounterSettings) {
        edge = settings.edge
        debouncer = EdgeDebouncer(debounceNanoseconds: settings.debounceSeconds.nanoseconds)
    }

    /// Feeds a batch of events, oldest first. No allocation, no logging: this runs per event.
    public mutating func feed(_ events: [GPIOEdgeEvent]) {
        for event in events {
            if let transition = debouncer.feed(event) { count(transition) }
        }
    }

    /// Confirms a level that has held until `now` (the events' clock, CLOCK_MONOTONIC).
    public mutating func settle(at now: UInt64) {
        if let transition = debouncer.settle(at: now) { count(transition) }
    }

    private mutating func count(_ transition: EdgeDebouncer.Transition) {
        switch (edge, transition) {
        case (.both, _), (.rising, .rose), (.falling, .fell): pulses &+= 1
        default: break
        }
    }
}
