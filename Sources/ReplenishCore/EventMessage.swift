import FoundationEssentials

/// `replenish.event/1`: one event, published on `{base}/events` as soon as it happens.
public struct EventMessage: Sendable, Equatable, Encodable {
    public static let schema = "replenish.event/1"

    /// What an event message can report.
    public enum Event: Sendable, Equatable {
        /// Something a slot's ledger noticed.
        case ledger(LedgerEvent)
        /// Status reports were dropped from a full outbox while delivery was stalled; their
        /// consumption is not lost, because `consumedTotal` in every later report carries it.
        case outboxEvicted(OutboxEviction)
        /// A message the broker refused for good left the outbox for the dead-letter table.
        case outboxDeadLettered(DeadLetter, at: Date)
        /// A slot's sensor stopped giving plausible readings (or could not be read); its ledger
        /// stands still until it recovers.
        case sensorFault(slot: String, health: SlotHealth, reason: String, at: Date)
        /// The slot's sensor gives plausible readings again.
        case sensorRecovered(slot: String, at: Date)
        /// A replenishment rule fired or an order moved on (see `ReplenishmentPolicy`).
        case policy(slot: String, PolicyEvent, at: Date)
    }

    public var header: MessageHeader
    public var event: Event

    public init(header: MessageHeader, event: Event) {
        self.header = header
        self.event = event
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try header.encode(into: &c)
        switch event {
        case let .ledger(.refilled(slot, from, to, at)):
            try c.encode("refilled", forKey: "event")
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(wireQuantity(from), forKey: "fromQuantity")
            try c.encode(wireQuantity(to), forKey: "toQuantity")
        case let .ledger(.replaced(slot, quantity, at)):
            try c.encode("replaced", forKey: "event")
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(wireQuantity(quantity), forKey: "quantity")
        case let .outboxDeadLettered(letter, at):
            try c.encode("outboxDeadLettered", forKey: "event")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(letter.seq, forKey: "deadLetteredSeq")
            try c.encode(letter.topic, forKey: "topic")
            try c.encode(letter.reason, forKey: "reason")
            try c.encode(letter.refusals, forKey: "refusals")
        case let .outboxEvicted(eviction):
            try c.encode("outboxEvicted", forKey: "event")
            try c.encode(eviction.reports, forKey: "evictedReports")
            try c.encode(eviction.firstSeq, forKey: "firstEvictedSeq")
            try c.encode(eviction.lastSeq, forKey: "lastEvictedSeq")
        case let .sensorFault(slot, health, reason, at):
            try c.encode("sensorFault", forKey: "event")
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(health, forKey: "health")
            try c.encode(reason, forKey: "reason")
        case let .sensorRecovered(slot, at):
            try c.encode("sensorRecovered", forKey: "event")
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(SlotHealth.ok, forKey: "health")
        case let .policy(slot, event, at):
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            switch event {
            case let .replenishRequested(reason, runOut, level):
                try c.encode("replenishRequested", forKey: "event")
                try c.encode(reason, forKey: "reason")
                try c.encode(runOut.map(Timestamp.string), forKey: "expectedReplenishmentDate")
                try c.encode(level.map(wireQuantity), forKey: "remainingQuantityInUnit")
            case let .orderStateChanged(orderId, state, previous):
                try c.encode("orderStateChanged", forKey: "event")
                try c.encode(orderId, forKey: "orderId")
                try c.encode(state, forKey: "state")
                try c.encode(previous, forKey: "previousState")
            case let .lowSupply(level, threshold):
                try c.encode("lowSupply", forKey: "event")
                try c.encode(wireQuantity(level), forKey: "remainingQuantityInUnit")
                try c.encode(wireQuantity(threshold), forKey: "lowThreshold")
            }
        }
    }

    /// The JSON payload.
    public func json() throws -> [UInt8] { try WireJSON.encode(self) }
}

/// Status reports evicted from the outbox since the last `outboxEvicted` event.
public struct OutboxEviction: Sendable, Equatable, Codable {
    public var reports: Int
    public var firstSeq: UInt64
    public var lastSeq: UInt64

    public init(reports: Int, firstSeq: UInt64, lastSeq: UInt64) {
        self.reports = reports
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
    }

    /// Adds seqs just evicted (in ascending order) to the tally.
    public static func adding(_ seqs: [UInt64], to tally: OutboxEviction?) -> OutboxEviction? {
        guard let first = seqs.first, let last = seqs.last else { return tally }
        guard let tally else { return OutboxEviction(reports: seqs.count, firstSeq: first, lastSeq: last) }
        return OutboxEviction(reports: tally.reports + seqs.count, firstSeq: min(tally.firstSeq, first),
                              lastSeq: max(tally.lastSeq, last))
    }
}
