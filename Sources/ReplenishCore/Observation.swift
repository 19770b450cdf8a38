import FoundationEssentials

/// What a source saw in one sample, already filtered and calibrated, in the slot's unit.
public enum Observation: Sendable, Equatable {
    /// Absolute quantity left in the slot (level sensors).
    case level(Double)
    /// Quantity used since the source's previous observation (usage and levelUsage sensors).
    case consumed(Double)
    /// A new consumable was inserted; the quantity it holds, nil meaning the slot's capacity.
    case replaced(Double?)
}

/// An observation of one slot at one instant of wall-clock time.
public struct Reading: Sendable, Equatable {
    public var slot: String
    public var at: Date
    public var observation: Observation

    public init(slot: String, at: Date, observation: Observation) {
        self.slot = slot
        self.at = at
        self.observation = observation
    }
}
