/// The bounds every quantity from outside the device (commands, config, sensors) must keep before
/// it touches a ledger or a policy. Each is far beyond any real appliance, and each keeps the sums
/// the ledger builds from them (`consumedTotal`, `totalQuantityOnHand`, run-out dates) finite for
/// the device's life, so a report can always be encoded.
public enum QuantityBounds {
    /// The largest single quantity accepted anywhere, in the slot's unit.
    public static let maximum = 1e9
    /// Supplies on hand (`totalQuantityOnHand`) are at most this many full slots.
    public static let onHandCapacities = 1000.0

    /// The most a slot of `capacity` may have on hand.
    public static func maximumOnHand(capacity: Double) -> Double {
        min(maximum, capacity * onHandCapacities)
    }

    /// `1800` as "1800", `0.5` as "0.5", `1e9` as "1000000000": bounds as they appear in reasons.
    public static func shown(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

extension SlotDefinition {
    /// Why `observation` cannot be true of this slot, or nil when it can. A level may stray below
    /// empty or above full by up to one capacity (calibration slack; the ledger clamps below 0), a
    /// use is finite and not negative, a replacement holds at most twice the capacity. A source
    /// that says otherwise is broken, and its slot's health must say so instead of its ledger
    /// counting the nonsense for good.
    public func implausibility(of observation: Observation) -> String? {
        let shown = QuantityBounds.shown
        switch observation {
        case .level(let quantity):
            guard quantity.isFinite, quantity >= -capacity, quantity <= 2 * capacity else {
                return "level \(shown(quantity)) is impossible for a slot of capacity \(shown(capacity)) (expected \(shown(-capacity)) to \(shown(2 * capacity)))"
            }
        case .consumed(let quantity):
            guard quantity.isFinite, quantity >= 0, quantity <= QuantityBounds.maximum else {
                return "use of \(shown(quantity)) is impossible (expected 0 to \(shown(QuantityBounds.maximum)))"
            }
        case .replaced(let quantity?):
            guard quantity.isFinite, quantity >= 0, quantity <= 2 * capacity else {
                return "a replacement holding \(shown(quantity)) is impossible for a slot of capacity \(shown(capacity))"
            }
        case .replaced(nil):
            break
        }
        return nil
    }
}
