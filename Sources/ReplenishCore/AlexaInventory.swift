import FoundationEssentials

/// One slot's messages for Alexa's Event Gateway, complete but for the user's token: the cloud
/// adds `event.endpoint.scope` (`{"type": "BearerToken", "token": …}`) and forwards each one.
///
/// Rules, from Amazon's pages (each checked where it is implemented below):
/// - the envelope `{event: {header, endpoint, payload}, context?}`, header `namespace`, `name`,
///   `messageId`, `payloadVersion: "3"`; endpoint `{scope, endpointId}`:
///   https://developer.amazon.com/docs/smarthome/send-events-to-the-alexa-event-gateway.html and
///   https://developer.amazon.com/docs/device-apis/alexa-interface.html (message reference)
/// - a level change is an `Alexa.ChangeReport` whose payload names the `cause` and lists the changed
///   properties, unchanged ones in `context`: https://developer.amazon.com/docs/device-apis/alexa-changereport.html
/// - `InventoryConsumed` (usage sensor; level-usage sensor) and `InventoryReplaced` (level-usage
///   sensor) carry the interface's `instance` in the header:
///   https://developer.amazon.com/docs/device-apis/alexa-inventoryusagesensor.html,
///   https://developer.amazon.com/docs/device-apis/alexa-inventorylevelusagesensor.html
/// - messageId 1-127 of letters, digits and `-`; timeOfSample UTC with at most 3 fractional digits:
///   the `model.MessageId` and `TimeOfSample` rules of alexa-samples/alexa-smarthome's
///   validation_schemas/alexa_smart_home_message_schema.json (commit 01680b1)
public struct AlexaSlotMessages: Sendable, Equatable {
    public var messages: [AlexaMessage]
    /// `device.alexa_endpoint_id` (the device id by default).
    public var endpointId: String
    /// The level properties of the device's other level slots, for a ChangeReport's `context`.
    public var context: [AlexaLevelProperty] = []
    /// The report's own `messageId`, from which each message's is derived (`NameBasedUUID`); set
    /// by `StatusReport` once the seq is known.
    public var reportMessageId = ""
    /// Built on untrusted wall time: no message, since every one carries a `timeOfSample` (a 1970
    /// date is no date for Alexa); what was used waits for the first report on trusted time.
    public var heldForClock = false

    public init(messages: [AlexaMessage], endpointId: String) {
        self.messages = messages
        self.endpointId = endpointId
    }

    /// The ChangeReport's level property, when this slot's messages have one.
    public var reportedLevel: AlexaLevelProperty? {
        messages.lazy.compactMap { if case let .changeReport(level) = $0 { level } else { nil } }.first
    }
}

/// `Alexa.InventoryLevelSensor`'s `level` property (https://developer.amazon.com/docs/device-apis/alexa-inventorylevelsensor.html).
public struct AlexaLevelProperty: Sendable, Equatable {
    public var instance: String
    public var measurement: Measurement
    public var value: Double
    public var timeOfSample: Date
    /// The reading's age when the report was built: our reading of the property object's
    /// `uncertaintyInMilliseconds` (https://developer.amazon.com/docs/device-apis/alexa-interface.html,
    /// and AVS's "Reportable State Properties" page for the same object), which we could not see
    /// defined word for word; a non-negative integer either way.
    public var uncertaintyInMilliseconds: Int

    public init(instance: String, measurement: Measurement, value: Double, timeOfSample: Date, now: Date) {
        self.instance = instance
        self.measurement = measurement
        self.value = value
        self.timeOfSample = timeOfSample
        let age = now.timeIntervalSince(timeOfSample) * 1000
        uncertaintyInMilliseconds = age.isFinite && age > 0 ? Int(min(age, 1e12).rounded()) : 0
    }
}

/// One Event Gateway message of a slot.
public enum AlexaMessage: Sendable, Equatable {
    /// The level changed by more than the slot's `alexa_level_step` since the last ChangeReport.
    case changeReport(AlexaLevelProperty)
    /// Something was used: `InventoryConsumed` of the usage or the level-usage sensor.
    case consumed(namespace: String, instance: String, measurement: Measurement, usage: Double, timeOfSample: Date)
    /// The part was replaced; `level` is what it held when new.
    case replaced(instance: String, measurement: Measurement, level: Double, timeOfSample: Date)
}

extension AlexaSlotMessages {
    static let usageNamespace = "Alexa.InventoryUsageSensor"
    static let levelUsageNamespace = "Alexa.InventoryLevelUsageSensor"

    /// What a slot tells Alexa in a report built at `now`: a level slot a ChangeReport when its level
    /// moved by more than the step since the last one sent (or none was sent); a usage slot what
    /// was used since the last report that told Alexa, if anything; a level-usage slot the same and, when the part
    /// was replaced since the last report, the replacement between what was used before and after
    /// it, so Alexa deducts each use from the right part. No message with nothing used: Amazon's
    /// DRS device sample (Alexa Connect Kit) sends consumption only when something was consumed.
    static func messages(definition: SlotDefinition, ledger: SlotLedger, now: Date) -> [AlexaMessage] {
        let consumed = ledger.consumedSinceAlexaTold
        let sampled = ledger.lastReadingDate ?? now
        switch definition.sensor {
        case .level:
            guard let level = levelProperty(definition: definition, ledger: ledger, now: now) else { return [] }
            if let sent = ledger.alexaLevelSent, abs(level.value - sent) <= definition.alexaLevelStep { return [] }
            return [.changeReport(level)]
        case .usage:
            return use(consumed, at: sampled, namespace: usageNamespace, definition)
        case .levelUsage:
            guard let replacedAt = ledger.replacedSinceAlexaTold else {
                return use(consumed, at: sampled, namespace: levelUsageNamespace, definition)
            }
            let after = min(consumed, ledger.usedSinceReplacement ?? 0)
            let new = (ledger.remaining ?? definition.capacity) + after
            return use(consumed - after, at: replacedAt, namespace: levelUsageNamespace, definition)
                + [.replaced(instance: definition.alexaInstance, measurement: definition.measurement,
                             level: definition.measurement.alexaLevel(new), timeOfSample: replacedAt)]
                + use(after, at: sampled, namespace: levelUsageNamespace, definition)
        }
    }

    /// An `InventoryConsumed` of `amount` as Alexa takes it (`Measurement.alexaUsage`); none when
    /// that is nothing, and what it leaves out is told with the next one.
    private static func use(_ amount: Double, at time: Date, namespace: String, _ definition: SlotDefinition) -> [AlexaMessage] {
        let usage = definition.measurement.alexaUsage(amount)
        guard usage > 0 else { return [] }
        return [.consumed(namespace: namespace, instance: definition.alexaInstance, measurement: definition.measurement,
                          usage: usage, timeOfSample: time)]
    }

    /// What this slot's messages tell Alexa was used: its cursor moves on by this much.
    public var toldConsumption: Double {
        messages.reduce(0) { sum, message in
            if case let .consumed(_, _, _, usage, _) = message { sum + usage } else { sum }
        }
    }

    /// A level slot's current `level` property; nil before its first reading or for other kinds.
    static func levelProperty(definition: SlotDefinition, ledger: SlotLedger, now: Date) -> AlexaLevelProperty? {
        guard definition.sensor == .level, let remaining = ledger.remaining else { return nil }
        return AlexaLevelProperty(instance: definition.alexaInstance, measurement: definition.measurement,
                                  value: definition.measurement.alexaLevel(remaining),
                                  timeOfSample: ledger.lastReadingDate ?? now, now: now)
    }
}

extension Measurement {
    /// An amount used as Alexa takes it: a Count in whole units (rounded down, the rest waits for
    /// the next event; the sample schema types Count as an integer), else three decimals.
    func alexaUsage(_ amount: Double) -> Double {
        guard amount.isFinite, amount > 0 else { return 0 }
        return type == .count ? (amount + 1e-9).rounded(.down) : wireQuantity(amount)
    }

    /// A level as Alexa takes it: a Count rounded to a whole number, a Percentage within 0...100
    /// (the sample schema's bounds; a sensor may read a little over full).
    func alexaLevel(_ level: Double) -> Double {
        switch type {
        case .count: level.rounded()
        case .percentage: min(100, max(0, wireQuantity(level)))
        case .volume, .weight: wireQuantity(level)
        }
    }
}

extension AlexaSlotMessages {
    /// An array of complete messages, in order; empty when there is nothing to tell Alexa.
    func encode(to encoder: Encoder, slot: String) throws {
        var list = encoder.unkeyedContainer()
        for (index, message) in messages.enumerated() {
            // Derived from the report's messageId: a replayed report repeats the same ids, so
            // Alexa (and the cloud) can drop the copy.
            let id = NameBasedUUID.v5(namespace: NameBasedUUID.alexaNamespace, name: "\(reportMessageId)/\(slot)/\(index)")
            try list.encode(Envelope(message: message, messageId: id, endpointId: endpointId, context: context))
        }
    }

    private struct Envelope: Encodable {
        var message: AlexaMessage
        var messageId: String
        var endpointId: String
        var context: [AlexaLevelProperty]

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            var event = c.nestedContainer(keyedBy: JSONKey.self, forKey: "event")
            var header = event.nestedContainer(keyedBy: JSONKey.self, forKey: "header")
            var endpoint = event.nestedContainer(keyedBy: JSONKey.self, forKey: "endpoint")
            try endpoint.encode(endpointId, forKey: "endpointId")
            var payload = event.nestedContainer(keyedBy: JSONKey.self, forKey: "payload")
            switch message {
            case let .changeReport(level):
                try header.encode("Alexa", forKey: "namespace")
                try header.encode("ChangeReport", forKey: "name")
                var change = payload.nestedContainer(keyedBy: JSONKey.self, forKey: "change")
                // The device polls its sensors; no person asked Alexa for the change.
                try change.encode(["type": "PERIODIC_POLL"], forKey: "cause")
                try change.encode([level], forKey: "properties")
                var contextContainer = c.nestedContainer(keyedBy: JSONKey.self, forKey: "context")
                try contextContainer.encode(context, forKey: "properties")
            case let .consumed(namespace, instance, measurement, usage, time):
                try header.encode(namespace, forKey: "namespace")
                try header.encode("InventoryConsumed", forKey: "name")
                try header.encode(instance, forKey: "instance")
                try payload.encode(AlexaQuantity(measurement: measurement, value: usage), forKey: "usage")
                try payload.encode(Timestamp.string(time), forKey: "timeOfSample")
            case let .replaced(instance, measurement, level, time):
                try header.encode(AlexaSlotMessages.levelUsageNamespace, forKey: "namespace")
                try header.encode("InventoryReplaced", forKey: "name")
                try header.encode(instance, forKey: "instance")
                try payload.encode(AlexaQuantity(measurement: measurement, value: level), forKey: "level")
                try payload.encode(Timestamp.string(time), forKey: "timeOfSample")
            }
            try header.encode(messageId, forKey: "messageId")
            try header.encode("3", forKey: "payloadVersion")
        }
    }
}

extension AlexaLevelProperty: Encodable {
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode("Alexa.InventoryLevelSensor", forKey: "namespace")
        try c.encode(instance, forKey: "instance")
        try c.encode("level", forKey: "name")
        try c.encode(AlexaQuantity(measurement: measurement, value: value), forKey: "value")
        try c.encode(Timestamp.string(timeOfSample), forKey: "timeOfSample")
        try c.encode(uncertaintyInMilliseconds, forKey: "uncertaintyInMilliseconds")
    }
}

/// `{"@type": "Volume", "value": 2.5, "unit": "LITER"}`; `unit` only for Volume and Weight.
struct AlexaQuantity: Encodable {
    var measurement: Measurement
    var value: Double

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try c.encode(measurement.type, forKey: "@type")
        try c.encode(wireQuantity(value), forKey: "value")
        try c.encodeIfPresent(measurement.unit, forKey: "unit")
    }
}
