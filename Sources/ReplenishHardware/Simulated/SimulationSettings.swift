/// How a simulated slot behaves: consumption per day, uses at random times, refills.
public struct SimulationSettings: Sendable, Hashable {
    /// When a simulated consumable is refilled or replaced.
    public enum RefillPlan: Sendable, Hashable {
        /// Refill to capacity once the level falls to this fraction of capacity (0...1).
        case below(fraction: Double)
        /// Refill to capacity on a fixed period, in seconds.
        case every(seconds: Double)
        /// Never refilled: the slot runs dry.
        case never
    }

    /// Mean consumption per simulated day, in the slot's unit.
    public var dailyConsumption: Double
    /// Mean number of uses per day; each use takes dailyConsumption / usesPerDay on average.
    public var usesPerDay: Double
    /// Relative spread of each use's quantity (0 = every use identical).
    public var noise: Double
    public var refill: RefillPlan
    /// Quantity in the slot when the simulation starts; nil means full.
    public var initialQuantity: Double?
    /// Seed of the pseudo-random generator; nil derives one from the slot id.
    public var seed: UInt64?

    public init(
        dailyConsumption: Double,
        usesPerDay: Double,
        noise: Double = 0.2,
        refill: RefillPlan = .below(fraction: 0.1),
        initialQuantity: Double? = nil,
        seed: UInt64? = nil
    ) {
        self.dailyConsumption = dailyConsumption
        self.usesPerDay = usesPerDay
        self.noise = noise
        self.refill = refill
        self.initialQuantity = initialQuantity
        self.seed = seed
    }

    /// Sensible behaviour for a slot with no `simulation` settings: a full slot lasts about ten days.
    public static func defaults(capacity: Double) -> SimulationSettings {
        SimulationSettings(dailyConsumption: capacity / 10, usesPerDay: 8)
    }
}
