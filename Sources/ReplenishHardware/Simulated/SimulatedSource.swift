import FoundationEssentials
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
