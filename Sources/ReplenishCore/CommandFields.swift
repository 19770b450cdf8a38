import FoundationEssentials

/// Reads the typed fields of one command payload, each with a precise reason (`.invalidField`)
/// when it is wrong.
struct CommandFields {
    let object: [String: JSONValue]
    let knownSlots: Set<String>?

    func command(_ name: CommandName) throws(CoreError) -> Command {
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
                throw .invalidField("inventoryAdjust needs totalQuantityOnHand or remainingQuantityInUnit")
            }
            return .inventoryAdjust(slot: slot, onHand: onHand, remaining: remaining)
        }
    }

    private func slot(required: Bool = true) throws(CoreError) -> String? {
        guard let value = object["slot"] else {
            if required { throw .invalidField("missing slot") }
            return nil
        }
        guard case .string(let slot) = value, isPrintable(slot, maxBytes: CommandDecoder.maxNameBytes) else {
            throw .invalidField("slot must be 1 to \(CommandDecoder.maxNameBytes) bytes of printable text")
        }
        if let knownSlots, !knownSlots.contains(slot) {
            throw .invalidField("unknown slot '\(CommandDecoder.printable(slot, limit: 64))' (known: \(knownSlots.sorted().joined(separator: ", ")))")
        }
        return slot
    }

    private func slot() throws(CoreError) -> String { try slot(required: true)! }

    private func orderId() throws(CoreError) -> String {
        guard let value = object["orderId"] else { throw .invalidField("missing orderId") }
        guard case .string(let id) = value, isPrintable(id, maxBytes: CommandDecoder.maxOrderIdBytes) else {
            throw .invalidField("orderId must be 1 to \(CommandDecoder.maxOrderIdBytes) bytes of printable text")
        }
        return id
    }

    private func text(_ key: String) throws(CoreError) -> String? {
        guard let value = object[key] else { return nil }
        guard case .string(let text) = value, isPrintable(text, maxBytes: CommandDecoder.maxNameBytes) else {
            throw .invalidField("\(key) must be 1 to \(CommandDecoder.maxNameBytes) bytes of printable text")
        }
        return text
    }

    private func positive(_ key: String, required: Bool) throws(CoreError) -> Double? {
        guard let value = object[key] else {
            if required { throw .invalidField("missing \(key)") }
            return nil
        }
        guard case .number(let number) = value, number > 0, number <= QuantityBounds.maximum else {
            throw .invalidField("\(key) must be a positive number of at most \(QuantityBounds.shown(QuantityBounds.maximum))")
        }
        return number
    }

    private func nonNegative(_ key: String) throws(CoreError) -> Double? {
        guard let value = object[key] else { return nil }
        guard case .number(let number) = value, number >= 0, number <= QuantityBounds.maximum else {
            throw .invalidField("\(key) must be a number from 0 to \(QuantityBounds.shown(QuantityBounds.maximum))")
        }
        return number
    }

    /// An ISO 8601 date-time, or a date alone (DRS sends `2026-12-09`), taken as its start in UTC.
    private func date(_ key: String) throws(CoreError) -> Date? {
        guard let value = object[key] else { return nil }
        guard case .string(let text) = value,
              let date = Timestamp.parse(text) ?? (Self.isDateOnly(text) ? Timestamp.parse(text + "T00:00:00Z") : nil)
        else {
            throw .invalidField("\(key) must be an ISO 8601 date-time such as 2026-11-29T10:00:00Z, or a date such as 2026-11-29")
        }
        return date
    }

    private static func isDateOnly(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.count == 10 && bytes[4] == UInt8(ascii: "-") && bytes[7] == UInt8(ascii: "-")
            && bytes.enumerated().allSatisfy { $0.offset == 4 || $0.offset == 7 || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0.element) }
    }

    private func bool(_ key: String) throws(CoreError) -> Bool {
        guard let value = object[key] else { throw .invalidField("missing \(key)") }
        guard case .bool(let flag) = value else {
            throw .invalidField("\(key) must be true or false")
        }
        return flag
    }
}

extension CoreError {
    /// A field of a command payload that is missing or wrong, with the reason to answer.
    static func invalidField(_ reason: String) -> CoreError { CoreError(.invalidField, reason: reason) }
}
