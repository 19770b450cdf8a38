import ReplenishCore
import ReplenishMQTT

/// The maker's cloud and Amazon, as far as the demo needs them: it answers every reorder request
/// with an order; the customer cancels the first one, the others ship the next day. Like any
/// cloud of replenishd's it keeps each command until its reply comes, and sends again those a
/// `{base}/state` does not list (a broker loses the commands queued for a session that expired).
/// On the 10th daily report it changes the device's configuration once (`DemoRemoteChange`).
struct DemoCloud {
    /// One command for the device.
    struct Command: Equatable {
        var command: String
        var slot: String
        var body: String
        var correlationId: String
        /// Sent again: the device's state did not list it.
        var again = false
    }

    let base: String
    /// Slot id -> capacity, the quantity each order carries.
    let capacities: [String: Double]
    private var orders = 0
    private var cancelledOne = false
    /// Orders placed and not yet shipped or cancelled: slot and order id.
    private var open: [(slot: String, orderId: String)] = []
    /// Sent and not yet answered, oldest first, with the number of states seen since it was sent.
    private var unanswered: [(command: Command, statesSince: Int)] = []
    /// The configuration change still to send.
    private var change: DemoRemoteChange?

    init(base: String, capacities: [String: Double], change: DemoRemoteChange? = nil) {
        self.base = base
        self.capacities = capacities
        self.change = change
    }

    /// The desired document to publish on `{base}/config/desired` (retained) once `dailyReports`
    /// reached the change's day; nil before and after.
    mutating func reconfigure(dailyReports: Int) -> DemoRemoteChange? {
        guard let due = change, dailyReports >= DemoRemoteChange.day else { return nil }
        change = nil
        return due
    }

    /// What the cloud sends for one message from the device.
    mutating func react(topic: String, json: [String: JSONValue]) -> [Command] {
        let sent = commands(topic: topic, json: json)
        unanswered += sent.map { ($0, 0) }
        return sent
    }

    private mutating func commands(topic: String, json: [String: JSONValue]) -> [Command] {
        if topic.hasSuffix("/replies"), case .string(let id)? = json["correlationId"] {
            unanswered.removeAll { $0.command.correlationId == id }
            return []
        }
        if topic.hasSuffix("/state") { return sendAgain(listed: json["commands"]) }
        if topic.hasSuffix("/events"), json["event"] == .string("replenishRequested"),
           case .string(let slot)? = json["slot"] {
            orders += 1
            let orderId = "D-\(orders)"
            open.append((slot, orderId))
            let quantity = capacities[slot] ?? 1
            return [Command(command: "orderPlaced", slot: slot,
                            body: #"{"correlationId":"c-\#(orderId)-placed","slot":"\#(slot)","orderId":"\#(orderId)","quantity":\#(quantity)}"#,
                            correlationId: "c-\(orderId)-placed")]
        }
        // A day later (the next daily report) the customer cancels the first order; the rest ship.
        guard topic.hasSuffix("/status"), json["reason"] == .string("daily"), !open.isEmpty else { return [] }
        let due = open
        open.removeAll()
        return due.map { order in
            if !cancelledOne {
                cancelledOne = true
                return Command(command: "orderCancelled", slot: order.slot,
                               body: #"{"correlationId":"c-\#(order.orderId)-cancel","slot":"\#(order.slot)","orderId":"\#(order.orderId)"}"#,
                               correlationId: "c-\(order.orderId)-cancel")
            }
            let quantity = capacities[order.slot] ?? 1
            return Command(command: "orderShipped", slot: order.slot,
                           body: #"{"correlationId":"c-\#(order.orderId)-ship","slot":"\#(order.slot)","orderId":"\#(order.orderId)","quantity":\#(quantity)}"#,
                           correlationId: "c-\(order.orderId)-ship")
        }
    }

    /// The unanswered commands a state does not list. One sent after the previous state may still
    /// be on its way (the device publishes its state whenever it changes), so only those a whole
    /// state ago are sent again; a copy would be harmless, as the device applies each once.
    private mutating func sendAgain(listed: JSONValue?) -> [Command] {
        guard case .array(let entries)? = listed else { return [] }
        let answered = Set(entries.compactMap { entry -> String? in
            guard case .object(let fields) = entry, case .string(let id)? = fields["correlationId"] else { return nil }
            return id
        })
        var again: [Command] = []
        for index in unanswered.indices {
            unanswered[index].statesSince += 1
            let waiting = unanswered[index]
            if waiting.statesSince >= 2, !answered.contains(waiting.command.correlationId) {
                var command = waiting.command
                command.again = true
                again.append(command)
                unanswered[index].statesSince = 0
            }
        }
        return again
    }
}
