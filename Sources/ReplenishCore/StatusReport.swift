import Foundation

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
    public var alexa: AlexaInventory

    /// Builds the status of a slot from a ledger that follows a `DayAccounting`, at wall-clock `now`.
    /// The average comes from closed days only; `expectedReplenishmentDate` is nil while `clock`
    /// is unsynchronized (a date computed from an untrusted clock is garbage).
    public init(definition: SlotDefinition, ledger: SlotLedger, health: SlotHealth, now: Date, clock: ClockStatus) {
        self.init(definition: definition, ledger: ledger, health: health, now: now,
                  average: ledger.averageDailyConsumption(window: definition.forecastWindowDays),
                  runOut: ledger.expectedRunOut(asOf: now, window: definition.forecastWindowDays, clock: clock))
    }

    /// Builds the status of a slot from its ledger at `now`, with days taken from the wall clock
    /// (for ledgers fed by `SlotLedger.apply(_:definition:calendar:)`).
    public init(definition: SlotDefinition, ledger: SlotLedger, health: SlotHealth, now: Date, calendar: Calendar) {
        self.init(definition: definition, ledger: ledger, health: health, now: now,
                  average: ledger.averageDailyConsumption(asOf: now, window: definition.forecastWindowDays,
                                                          calendar: calendar),
                  runOut: ledger.expectedRunOut(asOf: now, window: definition.forecastWindowDays, calendar: calendar))
    }

    private init(definition: SlotDefinition, ledger: SlotLedger, health: SlotHealth, now: Date,
                 average: Double?, runOut: Date?) {
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
        alexa = AlexaInventory(definition: definition, remaining: ledger.remaining,
                               consumed: ledger.consumedSinceLastReport, timeOfSample: ledger.lastReadingDate ?? now,
                               replacedAt: ledger.refilledSinceLastReport)
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
        try c.encode(alexa, forKey: "alexa")
    }
}

/// Whether a slot's numbers can be trusted.
public enum SlotHealth: String, Sendable, Codable {
    case ok
    case degraded
    case fault
}

/// `replenish.status/1`: every slot, at least once a day.
public struct StatusReport: Sendable, Equatable, Encodable {
    public static let schema = "replenish.status/1"

    public var header: MessageHeader
    public var reason: ReportReason
    public var slots: [SlotStatus]

    public init(header: MessageHeader, reason: ReportReason, slots: [SlotStatus]) {
        self.header = header
        self.reason = reason
        self.slots = slots
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try header.encode(into: &c)
        try c.encode(reason, forKey: "reason")
        try c.encode(slots, forKey: "slots")
    }

    /// The JSON payload published on `{base}/status`.
    public func json() throws -> [UInt8] { try WireJSON.encode(self) }
}
