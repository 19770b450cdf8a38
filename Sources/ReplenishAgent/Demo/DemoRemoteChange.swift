import FoundationEssentials
import ReplenishCore
import ReplenishHardware

/// The one configuration change the demo's cloud makes, as a maker's cloud would across a fleet:
/// on the 10th daily report it raises the low threshold of the first level slot that has one (the
/// coffee machine's water tank, 15% → 35%) with a desired document on `{base}/config/desired`.
/// At 15% (270 mL, under two cups) a cup often takes the tank past the warning before the
/// household refills; at 35% `lowSupply` comes with about four cups left, on every emptying.
struct DemoRemoteChange: Sendable {
    /// The daily report that makes the cloud send it; a demo must run longer to show its effect.
    static let day = 10
    /// The desired document's version: the first the cloud sends.
    static let version = 1

    let slot: String
    let unit: String
    let capacity: Double
    /// Low thresholds in percent of the capacity, before and after.
    let fromPercent: Int
    let toPercent: Int
    /// One use of the slot's simulated household, in the unit.
    let use: Double

    /// Nil when the profile has no level slot with a low threshold below 100%.
    init?(config: AgentConfig) {
        guard let slotConfig = config.slots.first(where: { $0.definition.sensor == .level && $0.definition.lowThreshold != nil }),
              let threshold = slotConfig.definition.lowThreshold, slotConfig.definition.capacity > 0 else { return nil }
        let slot = slotConfig.definition
        let household = slotConfig.simulation ?? .defaults(capacity: slot.capacity)
        use = household.usesPerDay > 0 ? household.dailyConsumption / household.usesPerDay : 0
        self.slot = slot.id
        capacity = slot.capacity
        unit = DemoView.unitLabel(unit: slot.measurement.unit?.rawValue, type: slot.measurement.type.rawValue)
        fromPercent = Int((threshold / slot.capacity * 100).rounded())
        toPercent = min(fromPercent + 20, 60)
        guard toPercent > fromPercent else { return nil }
    }

    /// What the cloud publishes, retained, QoS 1: only the key it overrides, the slot named by its id.
    var document: String {
        #"{"version": \#(Self.version), "slots": [{"id": "\#(slot)", "low_threshold": "\#(toPercent)%"}]}"#
    }

    /// The demo's line for it: what changes and why it matters.
    var note: String {
        let from = DemoView.number(capacity * Double(fromPercent) / 100)
        let to = DemoView.number(capacity * Double(toPercent) / 100)
        let uses = { (percent: Int) in Int((self.capacity * Double(percent) / 100 / self.use).rounded()) }
        let effect = use > 0 ? "lowSupply now comes with about \(uses(toPercent)) uses left instead of \(uses(fromPercent))"
            : "lowSupply now comes earlier"
        return "☁ cloud sends config/desired version \(Self.version): \(slot) low_threshold \(fromPercent)% → \(toPercent)% "
            + "(\(from) → \(to) \(unit)): \(effect)"
    }
}
