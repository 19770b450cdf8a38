import FoundationEssentials

/// Why a status report was built.
public enum ReportReason: String, Sendable, Codable {
    case startup
    case daily
    case periodic
    case command
}

/// One slot as the status report shows it; field names follow Amazon's SlotStatus where one exists.
public struct SlotStatus: Sendable, Equatable {
    public var slot: String
    public var sensor: SensorKind
    public var measurement: Measurement
    public var remainingQuantityInUnit: Double?
    public var originalQuantityInUnit: Double
    public var consumedSinceLastReport: Double
    public var consumedTotal: Double
    public var averageDailyConsumption: Double?
    public var lastUseDate: Date?
    public var expectedReplenishmentDate: Date?
    public var totalQuantityOnHand: Double?
    public var health: SlotHealth
    /// The slot's replenishment policy state; nil only where no policy is kept.
    public var replenishment: ReplenishmentStatus?
    /// The slot's Alexa Event Gateway messages (`AlexaSlotMessages`); the book fills in the
    /// endpoint and the ChangeReport context, the report the messageId they derive from.
    public var alexa: AlexaSlotMessages
    /// A level slot's current Alexa `level` property (for the other slots' ChangeReport context).
    public var alexaLevel: AlexaLevelProperty?
    /// What is left as Dash Replenishment counts it: `remainingQuantityInUnit`, except for a usage
    /// slot, whose remaining is its capacity less what was used since the last replacement.
    public var drsRemainingQuantity: Double?
    /// The run-out of `drsRemainingQuantity`: `expectedReplenishmentDate`, except for a usage slot.
    public var drsExpectedReplenishmentDate: Date?

    /// The exact DRS SlotStatus body of this slot; nil when a field cannot be known (see
    /// `DashSlotStatus`). Built when encoded, so it always follows `totalQuantityOnHand`.
    public var drs: DashSlotStatus? {
        DashSlotStatus(expectedReplenishmentDate: drsExpectedReplenishmentDate, remaining: drsRemainingQuantity,
                       capacity: originalQuantityInUnit, onHand: totalQuantityOnHand, lastUseDate: lastUseDate)
    }

    /// Builds the status of a slot from a ledger that follows a `DayAccounting`, at wall-clock `now`.
    /// The average comes from closed days only; `expectedReplenishmentDate` is nil while `clock`
    /// is unsynchronized (a date computed from an untrusted clock is garbage).
    public init(definition: SlotDefinition, ledger: SlotLedger, health: SlotHealth, now: Date, clock: ClockStatus) {
        let window = definition.forecastWindowDays
        self.init(definition: definition, ledger: ledger, health: health, now: now,
                  average: ledger.averageDailyConsumption(window: window),
                  runOut: ledger.expectedRunOut(asOf: now, window: window, clock: clock), clock: clock)
        if definition.sensor == .usage {
            drsRemainingQuantity = ledger.remainingSinceReplacement(capacity: definition.capacity)
            drsExpectedReplenishmentDate = ledger.expectedRunOut(of: drsRemainingQuantity, asOf: now, window: window,
                                                                 clock: clock)
        }
    }

    private init(definition: SlotDefinition, ledger: SlotLedger, health: SlotHealth, now: Date,
                 average: Double?, runOut: Date?, clock: ClockStatus) {
        slot = definition.id
        sensor = definition.sensor
        measurement = definition.measurement
        remainingQuantityInUnit = ledger.remaining
        originalQuantityInUnit = definition.capacity
        consumedSinceLastReport = ledger.consumedSinceLastReport
        consumedTotal = ledger.consumedTotal
        averageDailyConsumption = average
        lastUseDate = ledger.lastUseDate
        expectedReplenishmentDate = runOut
        totalQuantityOnHand = nil
        self.health = health
        let held = clock != .synchronized
        alexa = AlexaSlotMessages(messages: held ? [] : AlexaSlotMessages.messages(definition: definition, ledger: ledger, now: now),
                                  endpointId: "")
        alexa.heldForClock = held
        alexaLevel = AlexaSlotMessages.levelProperty(definition: definition, ledger: ledger, now: now)
        drsRemainingQuantity = ledger.remaining
        drsExpectedReplenishmentDate = runOut
    }
}

extension SlotStatus: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(slot, forKey: "slot")
        try c.encode(sensor, forKey: "sensor")
        try c.encode(measurement, forKey: "measurement")
        try c.encode(remainingQuantityInUnit.map(wireQuantity), forKey: "remainingQuantityInUnit")
        try c.encode(wireQuantity(originalQuantityInUnit), forKey: "originalQuantityInUnit")
        try c.encode(wireQuantity(consumedSinceLastReport), forKey: "consumedSinceLastReport")
        try c.encode(wireQuantity(consumedTotal), forKey: "consumedTotal")
        try c.encode(averageDailyConsumption.map(wireQuantity), forKey: "averageDailyConsumption")
        try c.encode(lastUseDate.map(Timestamp.string), forKey: "lastUseDate")
        try c.encode(expectedReplenishmentDate.map(Timestamp.string), forKey: "expectedReplenishmentDate")
        try c.encode(totalQuantityOnHand.map(wireQuantity), forKey: "totalQuantityOnHand")
        try c.encode(health, forKey: "health")
        try c.encode(replenishment, forKey: "replenishment")
        try alexa.encode(to: c.superEncoder(forKey: "alexa"), slot: slot)
        // Absent, never null, when a field cannot be known: whatever is sent is a valid SlotStatus.
        if let drs { try c.encode(drs, forKey: "drs") }
    }
}

/// Whether a slot's numbers can be trusted.
public enum SlotHealth: String, Sendable, Codable {
    case ok
    case degraded
    case fault
}

/// A change of a slot's health that the agent reports once, as a `sensorFault` or
/// `sensorRecovered` event.
public enum HealthTransition: Sendable, Equatable {
    /// The slot turned `fault`; the reason is the last bad sample's or read error's.
    case fault(reason: String)
    /// A faulted slot is `ok` again.
    case recovered
}

/// `replenish.status/1`: every slot, at least once a day; in parts when one message would exceed
/// the broker's size limit.
public struct StatusReport: Sendable, Equatable, Encodable {
    public static let schema = "replenish.status/1"

    /// Which part of a report split by size this message is. The parts of one report have
    /// consecutive seqs from `firstSeq`, and the same `generatedAt` and `reason`.
    public struct Part: Sendable, Equatable, Encodable {
        /// 1-based.
        public var number: Int
        public var count: Int
        public var firstSeq: UInt64

        public init(number: Int, count: Int, firstSeq: UInt64) {
            self.number = number
            self.count = count
            self.firstSeq = firstSeq
        }
    }

    public var header: MessageHeader
    public var reason: ReportReason
    public var slots: [SlotStatus]
    /// Nil when the report is one message (the field is then absent).
    public var part: Part?
    /// A start-up report sent when `report.startup_wait` ran out: the slots without a first
    /// reading yet (absent otherwise).
    public var unreadSlots: [String]

    public init(header: MessageHeader, reason: ReportReason, slots: [SlotStatus], part: Part? = nil,
                unreadSlots: [String] = []) {
        self.header = header
        self.reason = reason
        self.slots = slots.map { slot in
            var stamped = slot
            stamped.alexa.reportMessageId = header.messageId
            return stamped
        }
        self.part = part
        self.unreadSlots = unreadSlots
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try header.encode(into: &c)
        try c.encode(reason, forKey: "reason")
        if !unreadSlots.isEmpty { try c.encode(unreadSlots, forKey: "unreadSlots") }
        try c.encode(slots, forKey: "slots")
        if let part { try c.encode(part, forKey: "part") }
    }

    /// The JSON payload published on `{base}/status`.
    public func json() throws -> [UInt8] { try WireJSON.encode(self) }

    /// The slots of a report over `header` and `reason`, grouped into as few parts as keep every
    /// message within `maxBytes`: one group when the whole report fits. Measured with the widest
    /// seq, so the real messages are never larger. Throws when a slot cannot be encoded (the
    /// report cannot be sent at all) or does not fit alone (`.slotTooLarge`).
    public static func parts(header: MessageHeader, reason: ReportReason, slots: [SlotStatus],
                             unreadSlots: [String] = [], maxBytes: Int) throws -> [[SlotStatus]] {
        var widest = header
        widest.seq = .max
        let whole = try StatusReport(header: widest, reason: reason, slots: slots, unreadSlots: unreadSlots).json().count
        if whole <= maxBytes { return [slots] }

        let widestPart = Part(number: slots.count, count: slots.count, firstSeq: .max)
        let overhead = try StatusReport(header: widest, reason: reason, slots: [], part: widestPart,
                                        unreadSlots: unreadSlots).json().count
        var groups: [[SlotStatus]] = []
        var group: [SlotStatus] = []
        var size = overhead
        for slot in slots {
            let bytes = try WireJSON.encode(slot).count + 1  // and its comma
            guard overhead + bytes <= maxBytes else {
                throw CoreError(.slotTooLarge, reason: "slot '\(slot.slot)' alone makes a status report of \(overhead + bytes) bytes, "
                                + "more than the \(maxBytes) allowed (mqtt.max_message_size)")
            }
            if size + bytes > maxBytes {
                groups.append(group)
                group = []
                size = overhead
            }
            group.append(slot)
            size += bytes
        }
        if !group.isEmpty { groups.append(group) }
        return groups
    }
}
