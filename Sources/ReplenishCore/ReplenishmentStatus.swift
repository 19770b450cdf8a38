import FoundationEssentials

/// A slot's replenishment state as the status report shows it, in the slot's `replenishment` field.
public struct ReplenishmentStatus: Sendable, Equatable, Encodable {
    public var mode: ReplenishmentSettings.Mode
    /// `idle`, `requested`, `placed`, `shipped`, `suppressed`, `deregistered` or `unsubscribed`.
    public var state: String
    /// The newest open (placed or shipped) order, also while deregistered.
    public var orderId: String?
    public var requestedAt: Date?
    /// Set while a first cancellation holds requests back; nil otherwise (also when suppressed until full).
    public var suppressedUntil: Date?
    /// Cancellations since the slot was last refilled to 100 %.
    public var cancellations: Int
    public var totalQuantityOnHand: Double

    public init(mode: ReplenishmentSettings.Mode, state: String, orderId: String?, requestedAt: Date?,
                suppressedUntil: Date?, cancellations: Int, totalQuantityOnHand: Double) {
        self.mode = mode
        self.state = state
        self.orderId = orderId
        self.requestedAt = requestedAt
        self.suppressedUntil = suppressedUntil
        self.cancellations = cancellations
        self.totalQuantityOnHand = totalQuantityOnHand
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(mode, forKey: "mode")
        try c.encode(state, forKey: "state")
        try c.encode(orderId, forKey: "orderId")
        try c.encode(requestedAt.map(Timestamp.string), forKey: "requestedAt")
        try c.encode(suppressedUntil.map(Timestamp.string), forKey: "suppressedUntil")
        try c.encode(cancellations, forKey: "cancellations")
        try c.encode(wireQuantity(totalQuantityOnHand), forKey: "totalQuantityOnHand")
    }
}

extension ReplenishmentPolicy {
    /// The status report's view of this policy at `now`.
    public func status(at now: Date) -> ReplenishmentStatus {
        let state = state(at: now)
        var suppressedUntil: Date?
        if case .until(let date) = suppression, date > now { suppressedUntil = date }
        return ReplenishmentStatus(mode: settings.mode, state: state.name, orderId: openOrder?.0,
                                   requestedAt: requestedAt, suppressedUntil: suppressedUntil,
                                   cancellations: cancellations, totalQuantityOnHand: totalQuantityOnHand)
    }
}
