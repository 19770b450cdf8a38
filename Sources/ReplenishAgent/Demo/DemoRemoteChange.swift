import FoundationEssentials
import ReplenishCore
import ReplenishHardware

/// The one configuration change the demo's cloud makes, as a maker's cloud would across a fleet:
/// on the 10th daily report it lowers a level slot's low threshold to half with a desired document
/// on `{base}/config/desired` (the coffee machine's bean hopper, 20% → 10%: the household was
/// warned with about six doses left, now with about three). It picks the first level slot whose
/// simulated household refills below the lowered threshold, so the warnings go on, later; else
/// the first level slot with a low threshold.
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
        func percent(_ slot: SlotConfig) -> Int? {
            guard slot.definition.sensor == .level, let threshold = slot.definition.lowThreshold, slot.definition.capacity > 0
            else { return nil }
            return Int((threshold / slot.definition.capacity * 100).rounded())
        }
        func stillWarned(_ slot: SlotConfig) -> Bool {
            guard let from = percent(slot), case let .below(fraction)? = slot.simulation?.refill else { return false }
            return Double(from / 2) > fraction * 100
        }
        let candidates = config.slots.filter { (percent($0) ?? 0) >= 2 }
        guard let slotConfig = candidates.first(where: stillWarned) ?? candidates.first,
              let from = percent(slotConfig) else { return nil }
        let slot = slotConfig.definition
        let household = slotConfig.simulation ?? .defaults(capacity: slot.capacity)
        use = household.usesPerDay > 0 ? household.dailyConsumption / household.usesPerDay : 0
        self.slot = slot.id
        capacity = slot.capacity
        unit = DemoView.unitLabel(unit: slot.measurement.unit?.rawValue, type: slot.measurement.type.rawValue)
        fromPercent = from
        toPercent = from / 2
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
            : "lowSupply now comes later"
        return "☁ cloud sends config/desired version \(Self.version): \(slot) low_threshold \(fromPercent)% → \(toPercent)% "
            + "(\(from) → \(to) \(unit)): \(effect)"
    }
}
