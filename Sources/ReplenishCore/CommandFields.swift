import Foundation

/// A field of a command payload that is missing or wrong, with the reason to answer.
struct CommandFieldError: Error {
    var reason: String
}

/// Reads the typed fields of one command payload, each with a precise reason when it is wrong.
struct CommandFields {
    let object: [String: Any]
    let knownSlots: Set<String>?

    func command(_ name: CommandName) throws(CommandFieldError) -> Command {
        switch name {
        case .reportNow:
            return .reportNow
        case .orderPlaced:
            return .orderPlaced(slot: try slot(), orderId: try orderId(),
                                quantity: try positive("quantity", required: false),
                                unit: try text("unit"), asin: try text("asin"),
                                estimatedDelivery: try date("estimatedDeliveryDate"))
        case .orderShipped:
            return .orderShipped(slot: try slot(), orderId: try orderId(),
                                 quantity: try positive("quantity", required: true)!,
                                 estimatedDelivery: try date("estimatedDeliveryDate"))
        case .orderCancelled:
            return .orderCancelled(slot: try slot(), orderId: try orderId())
        case .deregistered:
            return .deregistered(slot: try slot(required: false))
        case .registered:
            return .registered(slot: try slot(required: false))
        case .subscriptionChanged:
            return .subscriptionChanged(slot: try slot(), subscribed: try bool("subscribed"))
        case .inventoryAdjust:
            let slot = try slot()
            let onHand = try nonNegative("totalQuantityOnHand")
            let remaining = try nonNegative("remainingQuantityInUnit")
            guard onHand != nil || remaining != nil else {
                throw CommandFieldError(reason: "inventoryAdjust needs totalQuantityOnHand or remainingQuantityInUnit")
            }
            return .inventoryAdjust(slot: slot, onHand: onHand, remaining: remaining)
        }
    }

    private func slot(required: Bool = true) throws(CommandFieldError) -> String? {
        guard let value = object["slot"] else {
            if required { throw CommandFieldError(reason: "missing slot") }
            return nil
        }
        guard let slot = value as? String, isPrintable(slot, maxBytes: CommandDecoder.maxNameBytes) else {
            throw CommandFieldError(reason: "slot must be 1 to \(CommandDecoder.maxNameBytes) bytes of printable text")
        }
        if let knownSlots, !knownSlots.contains(slot) {
            throw CommandFieldError(reason: "unknown slot '\(CommandDecoder.printable(slot, limit: 64))' (known: \(knownSlots.sorted().joined(separator: ", ")))")
        }
        return slot
    }

    private func slot() throws(CommandFieldError) -> String { try slot(required: true)! }

    private func orderId() throws(CommandFieldError) -> String {
        guard let value = object["orderId"] else { throw CommandFieldError(reason: "missing orderId") }
        guard let id = value as? String, isPrintable(id, maxBytes: CommandDecoder.maxOrderIdBytes) else {
            throw CommandFieldError(reason: "orderId must be 1 to \(CommandDecoder.maxOrderIdBytes) bytes of printable text")
        }
        return id
    }

    private func text(_ key: String) throws(CommandFieldError) -> String? {
        guard let value = object[key] else { return nil }
        guard let text = value as? String, isPrintable(text, maxBytes: CommandDecoder.maxNameBytes) else {
            throw CommandFieldError(reason: "\(key) must be 1 to \(CommandDecoder.maxNameBytes) bytes of printable text")
        }
        return text
    }

    private func positive(_ key: String, required: Bool) throws(CommandFieldError) -> Double? {
        guard let value = object[key] else {
            if required { throw CommandFieldError(reason: "missing \(key)") }
            return nil
        }
        guard let number = Self.number(value), number > 0 else {
            throw CommandFieldError(reason: "\(key) must be a positive number")
        }
        return number
    }

    private func nonNegative(_ key: String) throws(CommandFieldError) -> Double? {
        guard let value = object[key] else { return nil }
        guard let number = Self.number(value), number >= 0 else {
            throw CommandFieldError(reason: "\(key) must be a number of 0 or more")
        }
        return number
    }

    private func date(_ key: String) throws(CommandFieldError) -> Date? {
        guard let value = object[key] else { return nil }
        guard let text = value as? String, let date = Timestamp.parse(text) else {
            throw CommandFieldError(reason: "\(key) must be an ISO 8601 date-time such as 2026-11-29T10:00:00Z")
        }
        return date
    }

    private func bool(_ key: String) throws(CommandFieldError) -> Bool {
        guard let value = object[key] else { throw CommandFieldError(reason: "missing \(key)") }
        guard Self.isBoolean(value), let flag = value as? Bool else {
            throw CommandFieldError(reason: "\(key) must be true or false")
        }
        return flag
    }

    /// A JSON number (not a boolean, which Foundation also bridges to numbers), finite.
    private static func number(_ value: Any) -> Double? {
        guard !isBoolean(value), !(value is String), let number = value as? Double, number.isFinite else { return nil }
        return number
    }

    private static let booleanType = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// JSONSerialization hands `true`/`false` over as boolean NSNumbers and `1`/`0` as plain ones.
    private static func isBoolean(_ value: Any) -> Bool {
        if value is Bool, !(value is NSNumber) { return true }
        guard let number = value as? NSNumber else { return false }
        return ObjectIdentifier(type(of: number)) == booleanType
    }
}
