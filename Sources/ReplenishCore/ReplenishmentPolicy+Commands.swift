import FoundationEssentials

/// The order notifications the maker's cloud relays (Amazon sends them through SNS, which neither
/// orders nor deduplicates them): a repeated order id is answered ok with no second effect, and a
/// notification that arrives before the one it follows is taken for what it implies.
extension ReplenishmentPolicy {
    public typealias CommandResult = Result<[PolicyEvent], CoreError>

    /// Applies a decoded command addressed to this slot, whose full quantity is `capacity`: every
    /// quantity is checked against the slot's bounds (`QuantityBounds`) before it changes anything.
    /// `reportNow` is not a policy command.
    public mutating func apply(_ command: Command, capacity: Double, now: Date) -> CommandResult {
        let onHandLimit = QuantityBounds.maximumOnHand(capacity: capacity)
        switch command {
        case .reportNow:
            return .failure(.policyRejected("reportNow is not a replenishment command"))
        case let .orderPlaced(_, orderId, quantity, unit, asin, estimatedDelivery):
            if let quantity, quantity > onHandLimit {
                return .failure(.policyRejected("quantity \(QuantityBounds.shown(quantity)) exceeds the most this slot may have on hand (\(QuantityBounds.shown(onHandLimit)), \(QuantityBounds.shown(QuantityBounds.onHandCapacities)) × its capacity)"))
            }
            return orderPlaced(orderId: orderId, quantity: quantity, unit: unit, asin: asin,
                               estimatedDelivery: estimatedDelivery, now: now)
        case let .orderShipped(_, orderId, quantity, estimatedDelivery):
            // The shipment joins what is on hand: the sum is bounded, not only the one quantity.
            if orders[orderId]?.status != .shipped, orders[orderId]?.status != .delivered,
               totalQuantityOnHand + quantity > onHandLimit {
                return .failure(.policyRejected("shipping \(QuantityBounds.shown(quantity)) would bring totalQuantityOnHand to \(QuantityBounds.shown(totalQuantityOnHand + quantity)), above the most this slot may have on hand (\(QuantityBounds.shown(onHandLimit)), \(QuantityBounds.shown(QuantityBounds.onHandCapacities)) × its capacity)"))
            }
            return orderShipped(orderId: orderId, quantity: quantity, estimatedDelivery: estimatedDelivery, now: now)
        case let .orderCancelled(_, orderId):
            return orderCancelled(orderId: orderId, now: now)
        case .deregistered:
            return deregistered(now: now)
        case .registered:
            return registered(now: now)
        case let .subscriptionChanged(_, subscribed):
            return subscriptionChanged(subscribed: subscribed, now: now)
        case let .inventoryAdjust(_, onHand, remaining):
            if let remaining, remaining > capacity {
                return .failure(.policyRejected("remainingQuantityInUnit \(QuantityBounds.shown(remaining)) exceeds the slot's capacity (\(QuantityBounds.shown(capacity))); expected 0 to \(QuantityBounds.shown(capacity))"))
            }
            if let onHand, onHand > onHandLimit {
                return .failure(.policyRejected("totalQuantityOnHand \(QuantityBounds.shown(onHand)) exceeds the most this slot may have on hand; expected 0 to \(QuantityBounds.shown(onHandLimit)) (\(QuantityBounds.shown(QuantityBounds.onHandCapacities)) × its capacity)"))
            }
            return inventoryAdjust(onHand: onHand, remaining: remaining, now: now)
        }
    }

    /// Amazon placed an order: the outstanding request is answered and no other goes out while it is open.
    public mutating func orderPlaced(orderId: String, quantity: Double? = nil, unit: String? = nil,
                                    asin: String? = nil, estimatedDelivery: Date? = nil, now: Date) -> CommandResult {
        if let quantity, !(quantity.isFinite && quantity > 0) {
            return .failure(.policyRejected("quantity must be a positive number"))
        }
        // Known in any state (a repeat, or a late copy after its shipment or cancellation): no effect.
        guard orders[orderId] == nil else { return .success([]) }
        record(orderId, Order(status: .placed, since: now, quantity: quantity, unit: unit, asin: asin,
                              estimatedDelivery: estimatedDelivery, sequence: 0))
        requestedAt = nil
        return .success([.orderStateChanged(orderId: orderId, state: Order.Status.placed.rawValue, previous: "none")])
    }

    /// An order shipped: its quantity joins `totalQuantityOnHand` until a refill takes it. A shipment
    /// of an order not yet heard of counts as placed and shipped; one of a cancelled order is refused.
    public mutating func orderShipped(orderId: String, quantity: Double, estimatedDelivery: Date? = nil,
                                     now: Date) -> CommandResult {
        guard quantity.isFinite, quantity > 0 else {
            return .failure(.policyRejected("quantity must be a positive number"))
        }
        let previous: String
        switch orders[orderId]?.status {
        case .cancelled?:
            return .failure(.policyRejected("order '\(orderId)' was cancelled; a shipment after its cancellation is refused"))
        case .shipped?, .delivered?:
            return .success([])
        case .placed?:
            previous = Order.Status.placed.rawValue
            orders[orderId]?.status = .shipped
            orders[orderId]?.quantity = quantity
            if let estimatedDelivery { orders[orderId]?.estimatedDelivery = estimatedDelivery }
        case nil:
            previous = "none"
            record(orderId, Order(status: .shipped, since: now, quantity: quantity,
                                  estimatedDelivery: estimatedDelivery, sequence: 0))
            requestedAt = nil
        }
        totalQuantityOnHand += quantity
        return .success([.orderStateChanged(orderId: orderId, state: Order.Status.shipped.rawValue, previous: previous)])
    }

    /// The customer (or Amazon) cancelled an order. The first cancellation holds requests back for
    /// `retryAfterCancelDays`; the second until the slot is refilled to 100 %.
    public mutating func orderCancelled(orderId: String, now: Date) -> CommandResult {
        switch orders[orderId]?.status {
        case nil:
            return .failure(.policyRejected("unknown order '\(orderId)'"))
        case .cancelled?:
            return .success([])
        case .shipped?:
            return .failure(.policyRejected("order '\(orderId)' has shipped and can no longer be cancelled"))
        case .delivered?:
            return .failure(.policyRejected("order '\(orderId)' was delivered and can no longer be cancelled"))
        case .placed?:
            orders[orderId]?.status = .cancelled
            cancellations += 1
            requestedAt = nil
            if cancellations >= 2 {
                suppression = .untilFull
            } else if suppression != .untilFull {
                suppression = .until(now.addingTimeInterval(Double(settings.retryAfterCancelDays) * 86_400))
            }
            forgetOldClosedOrders()
            return .success([.orderStateChanged(orderId: orderId, state: Order.Status.cancelled.rawValue,
                                                previous: Order.Status.placed.rawValue)])
        }
    }

    /// The device was deregistered: no more requests (reports go on); open orders are still followed.
    public mutating func deregistered(now: Date) -> CommandResult {
        enrollment = .deregistered
        requestedAt = nil
        return .success([])
    }

    /// The device was registered (again): requests are allowed.
    public mutating func registered(now: Date) -> CommandResult {
        enrollment = .active
        return .success([])
    }

    /// The slot's subscription changed: unsubscribed stops requests like a deregistration,
    /// subscribed allows them again.
    public mutating func subscriptionChanged(subscribed: Bool, now: Date) -> CommandResult {
        if subscribed {
            enrollment = .active
        } else {
            enrollment = .unsubscribed
            requestedAt = nil
        }
        return .success([])
    }

    /// The customer bought supplies elsewhere or used them in another device. `onHand` replaces
    /// `totalQuantityOnHand`; `remaining` is for the agent to set on the ledger (checked here only).
    public mutating func inventoryAdjust(onHand: Double?, remaining: Double?, now: Date) -> CommandResult {
        guard onHand != nil || remaining != nil else {
            return .failure(.policyRejected("inventoryAdjust needs an on-hand or a remaining quantity"))
        }
        for value in [onHand, remaining].compactMap({ $0 }) where !(value.isFinite && value >= 0) {
            return .failure(.policyRejected("quantities must be numbers of 0 or more"))
        }
        if let onHand { totalQuantityOnHand = onHand }
        return .success([])
    }
}
