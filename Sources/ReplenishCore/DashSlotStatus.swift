import FoundationEssentials

/// A slot's Dash Replenishment SlotStatus body (`POST /slotStatus/{slotId}`), in the form DRS takes
/// it, so the maker's cloud can forward it untouched: all five fields, the quantities whole numbers
/// in the unit agreed with Amazon, the dates ISO 8601 (`Timestamp.string`).
///
/// Field names and types checked against Amazon's "SlotStatus Endpoint" page:
/// https://developer.amazon.com/docs/dash/slotstatus-endpoint.html (its parameter table types the
/// three quantities Integer and the two dates String, ISO 8601).
public struct DashSlotStatus: Sendable, Equatable, Encodable {
    public var expectedReplenishmentDate: Date
    public var remainingQuantityInUnit: Int
    public var originalQuantityInUnit: Int
    public var totalQuantityOnHand: Int
    public var lastUseDate: Date

    /// Nil when one of the five fields cannot be known: no forecast, no use yet, remaining or
    /// on-hand unknown, or a capacity that is not a whole number. Remaining and on hand are
    /// rounded down (after the three decimals every quantity on the wire has), so DRS is never
    /// told of more than there is; the capacity takes part only when it is whole.
    public init?(expectedReplenishmentDate: Date?, remaining: Double?, capacity: Double, onHand: Double?,
                 lastUseDate: Date?) {
        guard let expectedReplenishmentDate, let lastUseDate,
              let original = Self.whole(capacity),
              let remaining = remaining.flatMap({ Self.whole(wireQuantity($0).rounded(.down)) }),
              let onHand = onHand.flatMap({ Self.whole(wireQuantity($0).rounded(.down)) })
        else { return nil }
        self.expectedReplenishmentDate = expectedReplenishmentDate
        remainingQuantityInUnit = remaining
        originalQuantityInUnit = original
        totalQuantityOnHand = onHand
        self.lastUseDate = lastUseDate
    }

    /// `value` as an integer when it is a whole number of 0 or more (never NaN, infinite or too large).
    private static func whole(_ value: Double) -> Int? {
        value >= 0 ? Int(exactly: value) : nil
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(Timestamp.string(expectedReplenishmentDate), forKey: "expectedReplenishmentDate")
        try c.encode(remainingQuantityInUnit, forKey: "remainingQuantityInUnit")
        try c.encode(originalQuantityInUnit, forKey: "originalQuantityInUnit")
        try c.encode(totalQuantityOnHand, forKey: "totalQuantityOnHand")
        try c.encode(Timestamp.string(lastUseDate), forKey: "lastUseDate")
    }
}
