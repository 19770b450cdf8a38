import Foundation

/// The ready-made Alexa inventory property or event for a slot, so the cloud forwards it untranslated.
public enum AlexaInventory: Sendable, Equatable, Encodable {
    /// `Alexa.InventoryLevelSensor` property `level`: what remains.
    case level(instance: String, measurement: Measurement, value: Double, timeOfSample: Date)
    /// `InventoryConsumed` event payload of `Alexa.InventoryUsageSensor` (or `Alexa.InventoryLevelUsageSensor`).
    case consumed(namespace: String, instance: String, measurement: Measurement, usage: Double, timeOfSample: Date)
    /// A level sensor that has not produced a reading yet.
    case none

    public init(definition: SlotDefinition, remaining: Double?, consumed: Double, timeOfSample: Date) {
        switch definition.sensor {
        case .level:
            if let remaining {
                self = .level(instance: definition.alexaInstance, measurement: definition.measurement,
                              value: remaining, timeOfSample: timeOfSample)
            } else {
                self = .none
            }
        case .usage:
            self = .consumed(namespace: "Alexa.InventoryUsageSensor", instance: definition.alexaInstance,
                             measurement: definition.measurement, usage: consumed, timeOfSample: timeOfSample)
        case .levelUsage:
            self = .consumed(namespace: "Alexa.InventoryLevelUsageSensor", instance: definition.alexaInstance,
                             measurement: definition.measurement, usage: consumed, timeOfSample: timeOfSample)
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
            var c = encoder.container(keyedBy: JSONKey.self)
            var header = c.nestedContainer(keyedBy: JSONKey.self, forKey: "header")
            try header.encode(namespace, forKey: "namespace")
            try header.encode("InventoryConsumed", forKey: "name")
            try header.encode(instance, forKey: "instance")
            try header.encode("3", forKey: "payloadVersion")
            var payload = c.nestedContainer(keyedBy: JSONKey.self, forKey: "payload")
            try payload.encode(AlexaQuantity(measurement: measurement, value: usage), forKey: "usage")
            try payload.encode(Timestamp.string(time), forKey: "timeOfSample")
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
