import ReplenishCore
import ReplenishMQTT

/// The maker's cloud and Amazon, as far as the demo needs them: it answers every reorder request
/// with an order; the customer cancels the first one, the others ship the next day.
struct DemoCloud {
    let base: String
    /// Slot id -> capacity, the quantity each order carries.
    let capacities: [String: Double]
    private var orders = 0
    private var cancelledOne = false
    /// Orders placed and not yet shipped or cancelled: slot and order id.
    private var open: [(slot: String, orderId: String)] = []

    init(base: String, capacities: [String: Double]) {
        self.base = base
        self.capacities = capacities
    }

    /// What the cloud sends back for one message from the device: command name, slot, JSON payload.
    mutating func react(topic: String, json: [String: JSONValue]) -> [(command: String, slot: String, body: String)] {
        if topic.hasSuffix("/events"), json["event"] == .string("replenishRequested"),
           case .string(let slot)? = json["slot"] {
            orders += 1
            let orderId = "D-\(orders)"
            open.append((slot, orderId))
            let quantity = capacities[slot] ?? 1
            return [("orderPlaced", slot, #"{"correlationId":"c-\#(orderId)-placed","slot":"\#(slot)","orderId":"\#(orderId)","quantity":\#(quantity)}"#)]
        }
        // A day later (the next daily report) the customer cancels the first order; the rest ship.
        guard topic.hasSuffix("/status"), json["reason"] == .string("daily"), !open.isEmpty else { return [] }
        let due = open
        open.removeAll()
        return due.map { order in
            if !cancelledOne {
                cancelledOne = true
                return ("orderCancelled", order.slot, #"{"correlationId":"c-\#(order.orderId)-cancel","slot":"\#(order.slot)","orderId":"\#(order.orderId)"}"#)
            }
            let quantity = capacities[order.slot] ?? 1
            return ("orderShipped", order.slot, #"{"correlationId":"c-\#(order.orderId)-ship","slot":"\#(order.slot)","orderId":"\#(order.orderId)","quantity":\#(quantity)}"#)
        }
    }
}
