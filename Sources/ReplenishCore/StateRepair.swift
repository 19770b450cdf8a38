/// Stored state that no bounded input could have produced (a non-finite or absurd quantity,
/// written by an older version or a damaged file) is repaired when it is loaded and before it is
/// written, never carried on: one such number would make every later report unencodable.
/// Each function returns what it repaired, for the log; empty when all was sound.
extension SlotLedger {
    public mutating func repair(capacity: Double) -> [String] {
        var repaired: [String] = []
        func level(_ value: Double?, _ name: String) -> Double? {
            guard let value else { return nil }
            guard value.isFinite, value >= 0, value <= 2 * capacity else {
                repaired.append("\(name) \(value) outside 0...\(2 * capacity): unknown until the next reading")
                return nil
            }
            return value
        }
        func total(_ value: Double, _ name: String, fallback: Double) -> Double {
            guard value.isFinite, value >= 0, value <= QuantityBounds.maximumTotal else {
                repaired.append("\(name) \(value) outside 0...\(QuantityBounds.maximumTotal): set to \(fallback)")
                return fallback
            }
            return value
        }
        remaining = level(remaining, "remaining")
        referenceLevel = level(referenceLevel, "referenceLevel")
        reportedTotal = total(reportedTotal, "reportedTotal", fallback: 0)
        consumedTotal = total(consumedTotal, "consumedTotal", fallback: reportedTotal)
        if reportedTotal > consumedTotal {
            repaired.append("reportedTotal \(reportedTotal) above consumedTotal \(consumedTotal): set to it")
            reportedTotal = consumedTotal
        }
        openConsumed = total(openConsumed, "open day's consumption", fallback: 0)
        if let used = usedSinceReplacement, !(used.isFinite && used >= 0 && used <= QuantityBounds.maximumTotal) {
            repaired.append("usedSinceReplacement \(used) outside 0...\(QuantityBounds.maximumTotal): unknown until the next replacement")
            usedSinceReplacement = nil
        }
        for i in closedDays.indices {
            closedDays[i].consumed = total(closedDays[i].consumed, "consumption of \(closedDays[i].day)", fallback: 0)
        }
        return repaired
    }
}

extension ReplenishmentPolicy {
    public mutating func repair(capacity: Double) -> [String] {
        var repaired: [String] = []
        let limit = QuantityBounds.maximumOnHand(capacity: capacity)
        if !(totalQuantityOnHand.isFinite && totalQuantityOnHand >= 0 && totalQuantityOnHand <= limit) {
            let fixed = totalQuantityOnHand.isFinite ? min(max(totalQuantityOnHand, 0), limit) : 0
            repaired.append("totalQuantityOnHand \(totalQuantityOnHand) outside 0...\(limit): set to \(fixed)")
            totalQuantityOnHand = fixed
        }
        for (id, order) in orders {
            if let quantity = order.quantity, !(quantity.isFinite && quantity > 0 && quantity <= limit) {
                repaired.append("quantity \(quantity) of order \(id) outside 0...\(limit): forgotten")
                orders[id]?.quantity = nil
            }
        }
        return repaired
    }
}

extension QuantityBounds {
    /// The most a meter (`consumedTotal`) can read: a million maximal uses.
    public static let maximumTotal = 1e15
}
