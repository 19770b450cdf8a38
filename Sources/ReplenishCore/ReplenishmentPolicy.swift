import FoundationEssentials

/// The Dash Replenishment rules for one slot: when to ask for a reorder, what the cloud's order
/// notifications do, and when a `lowSupply` event fires. Pure: time comes in as `Date` arguments.
///
/// The agent keeps one per slot and persists it with the slot's ledger. After restoring it, the
/// agent sets `settings` from the current config (the config wins over what was stored).
/// Per accepted reading the agent calls `refilled` first when the ledger saw a refill, then
/// `evaluate`; every `evaluate` with a level counts as one reading for the consecutive-low rule.
public struct ReplenishmentPolicy: Sendable, Codable, Equatable {
    public var settings: ReplenishmentSettings

    /// Every order the cloud told us about, by order id: for idempotency and out-of-order
    /// notifications. Closed orders (cancelled, delivered) beyond `keptClosedOrders` are forgotten.
    public internal(set) var orders: [String: Order] = [:]
    /// When the pending request was made; nil when none is outstanding.
    public internal(set) var requestedAt: Date?
    public internal(set) var suppression: Suppression = .none
    public internal(set) var enrollment: Enrollment = .active
    /// Cancellations since the slot was last refilled to 100 %.
    public internal(set) var cancellations = 0
    /// Supply in the home but not loaded (`totalQuantityOnHand`), shipped orders included.
    public internal(set) var totalQuantityOnHand: Double = 0
    /// Consecutive readings at or below the low threshold.
    public internal(set) var consecutiveLowReadings = 0
    /// Whether the next downward crossing of the low threshold fires `lowSupply`.
    public internal(set) var lowSupplyArmed = true
    var nextOrderSequence = 0

    /// Closed orders kept for idempotency; open ones are always kept.
    public static let keptClosedOrders = 64

    /// One order the cloud reported.
    public struct Order: Sendable, Codable, Equatable {
        public enum Status: String, Sendable, Codable {
            case placed, shipped, cancelled, delivered
        }

        public var status: Status
        /// When the device first heard of it.
        public var since: Date
        public var quantity: Double?
        public var unit: String?
        public var asin: String?
        public var estimatedDelivery: Date?
        /// Arrival order, to pick the oldest shipment and forget the oldest closed orders.
        public var sequence: Int

        var isOpen: Bool { status == .placed || status == .shipped }
    }

    /// Why requests are held back after a cancellation.
    public enum Suppression: Sendable, Codable, Equatable {
        case none
        /// After a first cancellation: no request before this date.
        case until(Date)
        /// After a second cancellation: no request until the slot is refilled to 100 %.
        case untilFull
    }

    /// Whether Amazon will take requests for this slot.
    public enum Enrollment: String, Sendable, Codable {
        case active
        /// `deregistered`: requests stop, reports go on.
        case deregistered
        /// `subscriptionChanged` with `subscribed: false`: requests stop, reports go on.
        case unsubscribed
    }

    /// A shipment on its way (or arrived but not yet loaded into the slot).
    public struct PendingDelivery: Sendable, Equatable {
        public var orderId: String
        public var quantity: Double
        public var estimatedDelivery: Date?
    }

    public init(settings: ReplenishmentSettings = ReplenishmentSettings()) {
        self.settings = settings
    }

    // MARK: State

    /// The policy's state, one word for the status report and one case to switch on.
    public enum State: Sendable, Equatable {
        case idle
        case requested(at: Date)
        case placed(orderId: String, at: Date, quantity: Double?, estimatedDelivery: Date?)
        case shipped(orderId: String, at: Date, quantity: Double, estimatedDelivery: Date?)
        case suppressedUntil(Date)
        case suppressedUntilFull
        case deregistered
        case unsubscribed

        /// `idle`, `requested`, `placed`, `shipped`, `suppressed`, `deregistered`, `unsubscribed`.
        public var name: String {
            switch self {
            case .idle: "idle"
            case .requested: "requested"
            case .placed: "placed"
            case .shipped: "shipped"
            case .suppressedUntil, .suppressedUntilFull: "suppressed"
            case .deregistered: "deregistered"
            case .unsubscribed: "unsubscribed"
            }
        }
    }

    /// The state as of `now`: enrollment first (it stops everything), then the newest open order,
    /// then an outstanding request, then a suppression still in force.
    public func state(at now: Date) -> State {
        switch enrollment {
        case .deregistered: return .deregistered
        case .unsubscribed: return .unsubscribed
        case .active: break
        }
        if let (id, order) = openOrder {
            switch order.status {
            case .shipped:
                return .shipped(orderId: id, at: order.since, quantity: order.quantity ?? 0,
                                estimatedDelivery: order.estimatedDelivery)
            default:
                return .placed(orderId: id, at: order.since, quantity: order.quantity,
                               estimatedDelivery: order.estimatedDelivery)
            }
        }
        if let requestedAt { return .requested(at: requestedAt) }
        switch suppression {
        case .until(let date) where date > now: return .suppressedUntil(date)
        case .untilFull: return .suppressedUntilFull
        default: return .idle
        }
    }

    /// The newest open order (shipped or placed).
    var openOrder: (String, Order)? {
        orders.filter { $0.value.isOpen }.max { $0.value.sequence < $1.value.sequence }.map { ($0.key, $0.value) }
    }

    /// Shipments not yet taken by a refill, oldest first.
    public var pendingDeliveries: [PendingDelivery] {
        orders.filter { $0.value.status == .shipped }
            .sorted { $0.value.sequence < $1.value.sequence }
            .map { PendingDelivery(orderId: $0.key, quantity: $0.value.quantity ?? 0,
                                   estimatedDelivery: $0.value.estimatedDelivery) }
    }

    /// Whether a request may go out at `now` (the need aside).
    func mayRequest(at now: Date) -> Bool {
        guard settings.mode == .device, enrollment == .active, requestedAt == nil, openOrder == nil else {
            return false
        }
        switch suppression {
        case .none: return true
        case .until(let date): return now >= date
        case .untilFull: return false
        }
    }

    // MARK: Readings

    /// Applies one reading: `remaining` is the slot's level (nil when unknown, as for a usage
    /// sensor), `runOut` the ledger's forecast (nil when unknown), `lowThreshold` the slot's.
    /// Returns at most one `lowSupply` and at most one `replenishRequested`.
    public mutating func evaluate(remaining: Double?, runOut: Date?, capacity: Double, lowThreshold: Double?,
                                  now: Date) -> [PolicyEvent] {
        var events: [PolicyEvent] = []
        if case .until(let date) = suppression, now >= date { suppression = .none }

        if let level = remaining, level.isFinite, let threshold = lowThreshold {
            if level <= threshold {
                consecutiveLowReadings += 1
                if lowSupplyArmed {
                    lowSupplyArmed = false
                    events.append(.lowSupply(level: level, threshold: threshold))
                }
            } else {
                consecutiveLowReadings = 0
                if level > threshold + settings.lowSupplyHysteresis * capacity { lowSupplyArmed = true }
            }
        } else if lowThreshold == nil {
            consecutiveLowReadings = 0
        }

        guard mayRequest(at: now) else { return events }
        let reason: String
        if let runOut, runOut.timeIntervalSince(now) <= settings.requestHorizon {
            reason = "forecast"
        } else if consecutiveLowReadings >= max(1, settings.lowReadingsToRequest) {
            reason = "lowThreshold"
        } else {
            return events
        }
        requestedAt = now
        events.append(.replenishRequested(reason: reason, runOut: runOut, level: remaining))
        return events
    }

    /// The slot was refilled to `level` (from `from` when known). An outstanding request is
    /// satisfied; the oldest shipment is taken as what was loaded (its quantity leaves
    /// `totalQuantityOnHand`, the order is delivered); without one, what the refill added leaves
    /// on-hand stock. A refill to 100 % (within `fullTolerance`) ends a second cancellation's
    /// suppression and resets the cancellation count; a first cancellation's wait of
    /// `retryAfterCancelDays` still runs its course (Dash: "reorder again in 5 days").
    /// Low readings before a refill no longer count toward a request.
    @discardableResult
    public mutating func refilled(to level: Double, from: Double? = nil, capacity: Double, now: Date) -> [PolicyEvent] {
        var events: [PolicyEvent] = []
        requestedAt = nil
        consecutiveLowReadings = 0
        if level >= capacity * (1 - settings.fullTolerance) {
            if case .untilFull = suppression { suppression = .none }
            cancellations = 0
        }
        if let delivery = pendingDeliveries.first {
            orders[delivery.orderId]?.status = .delivered
            takeFromStock(delivery.quantity)
            events.append(.orderStateChanged(orderId: delivery.orderId, state: Order.Status.delivered.rawValue,
                                             previous: Order.Status.shipped.rawValue))
            forgetOldClosedOrders()
        } else if let from {
            takeFromStock(level - from)
        }
        return events
    }

    private mutating func takeFromStock(_ quantity: Double) {
        guard quantity.isFinite, quantity > 0 else { return }
        totalQuantityOnHand = max(0, totalQuantityOnHand - quantity)
    }

    // MARK: Orders (internal, for the command handlers)

    mutating func record(_ id: String, _ order: Order) {
        var order = order
        order.sequence = nextOrderSequence
        nextOrderSequence += 1
        orders[id] = order
    }

    mutating func forgetOldClosedOrders() {
        let closed = orders.filter { !$0.value.isOpen }.sorted { $0.value.sequence < $1.value.sequence }
        for (id, _) in closed.dropLast(Self.keptClosedOrders) { orders[id] = nil }
    }


    // MARK: Coding

    private enum CodingKeys: String, CodingKey {
        case settings, orders, requestedAt, suppression, enrollment, cancellations, totalQuantityOnHand,
             consecutiveLowReadings, lowSupplyArmed, nextOrderSequence
    }

    /// Fields missing from an older stored form take their defaults.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        settings = try c.decodeIfPresent(ReplenishmentSettings.self, forKey: .settings) ?? ReplenishmentSettings()
        orders = try c.decodeIfPresent([String: Order].self, forKey: .orders) ?? [:]
        requestedAt = try c.decodeIfPresent(Date.self, forKey: .requestedAt)
        suppression = try c.decodeIfPresent(Suppression.self, forKey: .suppression) ?? .none
        enrollment = try c.decodeIfPresent(Enrollment.self, forKey: .enrollment) ?? .active
        cancellations = try c.decodeIfPresent(Int.self, forKey: .cancellations) ?? 0
        totalQuantityOnHand = try c.decodeIfPresent(Double.self, forKey: .totalQuantityOnHand) ?? 0
        consecutiveLowReadings = try c.decodeIfPresent(Int.self, forKey: .consecutiveLowReadings) ?? 0
        lowSupplyArmed = try c.decodeIfPresent(Bool.self, forKey: .lowSupplyArmed) ?? true
        nextOrderSequence = try c.decodeIfPresent(Int.self, forKey: .nextOrderSequence)
            ?? ((orders.values.map(\.sequence).max() ?? -1) + 1)
    }
}
