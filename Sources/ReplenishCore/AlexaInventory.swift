import FoundationEssentials

/// The ready-made Alexa inventory property or event for a slot, so the cloud forwards it untranslated.
public enum AlexaInventory: Sendable, Equatable, Encodable {
    /// `Alexa.InventoryLevelSensor` property `level`: what remains.
    case level(instance: String, measurement: Measurement, value: Double, timeOfSample: Date)
    /// `InventoryConsumed` event of `Alexa.InventoryUsageSensor`: what was used since the last report.
    case consumed(namespace: String, instance: String, measurement: Measurement, usage: Double, timeOfSample: Date)
    /// `Alexa.InventoryLevelUsageSensor` (parts with an estimated life, such as filters): the
    /// consumed event when something was used, and the replaced event when the part was replaced,
    /// since the last report (at least one of them).
    case levelUsage(instance: String, measurement: Measurement, usage: Double, timeOfSample: Date, replacedAt: Date?)
    /// Nothing to tell Alexa: a level sensor without a reading yet, or a usage sensor with nothing
    /// used (and, for levelUsage, nothing replaced) since the last report. Alexa's samples send a
    /// consumption event only when something was consumed (issue 18).
    case none

    public init(definition: SlotDefinition, remaining: Double?, consumed: Double, timeOfSample: Date,
                replacedAt: Date? = nil) {
        switch definition.sensor {
        case .level:
            if let remaining {
                self = .level(instance: definition.alexaInstance, measurement: definition.measurement,
                              value: remaining, timeOfSample: timeOfSample)
            } else {
                self = .none
            }
        case .usage where consumed > 0:
            self = .consumed(namespace: "Alexa.InventoryUsageSensor", instance: definition.alexaInstance,
                             measurement: definition.measurement, usage: consumed, timeOfSample: timeOfSample)
        case .levelUsage where consumed > 0 || replacedAt != nil:
            self = .levelUsage(instance: definition.alexaInstance, measurement: definition.measurement,
                               usage: consumed, timeOfSample: timeOfSample, replacedAt: replacedAt)
        case .usage, .levelUsage:
            self = .none
        }
    }

    public func encode(to encoder: Encoder) throws {
        switch self {
        case .none:
            var c = encoder.singleValueContainer()
            try c.encodeNil()
        case let .level(instance, measurement, value, time):
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode("Alexa.InventoryLevelSensor", forKey: "namespace")
            try c.encode(instance, forKey: "instance")
            try c.encode("level", forKey: "name")
            try c.encode(AlexaQuantity(measurement: measurement, value: value), forKey: "value")
            try c.encode(Timestamp.string(time), forKey: "timeOfSample")
            try c.encode(0, forKey: "uncertaintyInMilliseconds")
        case let .consumed(namespace, instance, measurement, usage, time):
            try AlexaEvent(namespace: namespace, name: "InventoryConsumed", instance: instance,
                           usage: AlexaQuantity(measurement: measurement, value: usage), timeOfSample: time)
                .encode(to: encoder)
        case let .levelUsage(instance, measurement, usage, time, replacedAt):
            var c = encoder.container(keyedBy: JSONKey.self)
            let namespace = "Alexa.InventoryLevelUsageSensor"
            try c.encode(usage > 0 ? AlexaEvent(namespace: namespace, name: "InventoryConsumed", instance: instance,
                                                usage: AlexaQuantity(measurement: measurement, value: usage),
                                                timeOfSample: time) : nil,
                         forKey: "consumed")
            try c.encode(replacedAt.map {
                AlexaEvent(namespace: namespace, name: "InventoryReplaced", instance: instance, usage: nil, timeOfSample: $0)
            }, forKey: "replaced")
        }
    }
}

/// `{"@type": "Volume", "value": 2.5, "unit": "LITER"}`.
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

/// An Alexa inventory event: `{header: {namespace, name, instance, payloadVersion}, payload: {usage?, timeOfSample}}`.
struct AlexaEvent: Encodable {
    var namespace: String
    var name: String
    var instance: String
    var usage: AlexaQuantity?
    var timeOfSample: Date

    func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        var header = c.nestedContainer(keyedBy: JSONKey.self, forKey: "header")
        try header.encode(namespace, forKey: "namespace")
        try header.encode(name, forKey: "name")
        try header.encode(instance, forKey: "instance")
        try header.encode("3", forKey: "payloadVersion")
        var payload = c.nestedContainer(keyedBy: JSONKey.self, forKey: "payload")
        try payload.encodeIfPresent(usage, forKey: "usage")
        try payload.encode(Timestamp.string(timeOfSample), forKey: "timeOfSample")
    }
}
