import Foundation
import ReplenishCore
import Synchronization

/// A slot driven by a simulated household: uses at random times, consumption with noise, and
/// refills on a plan, all in the time the caller passes (so it follows any injected clock).
public final class SimulatedSource: SensorSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    private let sensor: SensorKind
    private let capacity: Double
    private let settings: SimulationSettings
    private let state: Mutex<State>

    private struct State {
        var random: SplitMix64
        var quantity: Double
        var nextUse: Date
        var lastRefill: Date
        /// Everything the simulated household has used so far (ground truth for tests).
        var totalUsed: Double = 0
        var refills: Int = 0
    }

    public init(definition: SlotDefinition, settings: SimulationSettings, sampleIntervalSeconds: Double, start: Date) {
        slot = definition.id
        sensor = definition.sensor
        capacity = definition.capacity
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        var random = SplitMix64(seed: settings.seed ?? SplitMix64.seed(from: definition.id))
        let firstUse = start.addingTimeInterval(random.exponential(mean: Self.meanInterval(settings)))
        state = Mutex(State(random: random, quantity: min(settings.initialQuantity ?? definition.capacity, definition.capacity),
                            nextUse: firstUse, lastRefill: start))
    }

    /// Quantity used by the simulated household so far.
    public var totalUsed: Double { state.withLock { $0.totalUsed } }
    /// Refills or replacements so far.
    public var refills: Int { state.withLock { $0.refills } }

    public func sample(at now: Date) -> [Observation] {
        state.withLock { s in
            var observations: [Observation] = []
            var used = 0.0
            while s.nextUse <= now {
                let useTime = s.nextUse
                refillIfDue(&s, at: useTime, observations: &observations, used: &used)
                let mean = settings.dailyConsumption / settings.usesPerDay
                var amount = max(0, mean * (1 + settings.noise * s.random.normal()))
                if sensor != .usage { amount = min(amount, s.quantity) }
                s.quantity -= amount
                s.totalUsed += amount
                used += amount
                s.nextUse = useTime.addingTimeInterval(max(1, s.random.exponential(mean: Self.meanInterval(settings))))
            }
            refillIfDue(&s, at: now, observations: &observations, used: &used)
            switch sensor {
            case .level:
                observations.append(.level(s.quantity))
            case .usage, .levelUsage:
                if used > 0 { observations.append(.consumed(used)) }
            }
            return observations
        }
    }

    private func refillIfDue(_ s: inout State, at time: Date, observations: inout [Observation], used: inout Double) {
        let due: Bool
        switch settings.refill {
        case .never: due = false
        case .below(let fraction): due = s.quantity <= fraction * capacity
        case .every(let seconds): due = time.timeIntervalSince(s.lastRefill) >= seconds
        }
        guard due else { return }
        s.refills += 1
        s.lastRefill = time
        switch sensor {
        case .level:
            // The level sensor sees the old level before the refill, then the full one; uses later
            // in the same sample come off the full level.
            observations.append(.level(s.quantity))
            observations.append(.level(capacity))
        case .levelUsage:
            if used > 0 { observations.append(.consumed(used)) }
            used = 0
            observations.append(.replaced(nil))
        case .usage:
            break  // the stock lives elsewhere; a usage sensor does not see it
        }
        s.quantity = capacity
    }

    private static func meanInterval(_ settings: SimulationSettings) -> Double {
        86_400 / settings.usesPerDay
    }
}

/// A small, fast, seedable generator (SplitMix64), so simulated runs are reproducible.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in (0, 1].
    mutating func unit() -> Double { (Double(next() >> 11) + 1) / Double(1 << 53) }

    /// Exponentially distributed with the given mean (waiting time of a Poisson process).
    mutating func exponential(mean: Double) -> Double { -log(unit()) * mean }

    /// Standard normal (Box-Muller).
    mutating func normal() -> Double { sqrt(-2 * log(unit())) * cos(2 * .pi * unit()) }

    /// A seed derived from a name (FNV-1a), so each slot gets its own stream.
    static func seed(from name: String) -> UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
