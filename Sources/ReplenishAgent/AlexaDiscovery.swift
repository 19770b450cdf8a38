import FoundationEssentials
import ReplenishCore

/// `replenishd alexa-discovery`: the device's endpoint as the maker's cloud registers it with Alexa
/// once: `{"endpointId": …, "capabilities": [...]}`, one inventory capability per slot after the
/// `Alexa` interface. The cloud adds what only it knows (manufacturerName, description,
/// friendlyName, displayCategories) and wraps it in its Discover.Response or AddOrUpdateReport.
///
/// Shapes, from Amazon's pages and its machine-generated Smart Home message schema
/// (https://github.com/alexa-samples/alexa-smarthome/blob/master/validation_schemas/alexa_smart_home_message_schema.json,
/// checked at commit d592bcf, 2025-07-03; it describes only the level sensor's capability):
/// - every endpoint lists the `Alexa` interface itself:
///   https://developer.amazon.com/docs/device-apis/alexa-interface.html
/// - `endpointId`: 1 to 256 of letters, digits and `_ - = # ; : ? @ &` (the schema's pattern; the
///   endpoint object is described at https://developer.amazon.com/docs/device-apis/alexa-discovery-objects.html)
/// - Alexa.InventoryLevelSensor: `instance`, `capabilityResources.friendlyNames`, the supported
///   property `level`, `configuration.measurement` (`@type`, and `unit` for Volume and Weight) and
///   `configuration.replenishment` (`@type` DashReplenishmentId):
///   https://developer.amazon.com/en-US/docs/alexa/device-apis/alexa-inventorylevelsensor.html
/// - Alexa.InventoryUsageSensor and Alexa.InventoryLevelUsageSensor declare no reportable
///   properties (they send events), so their capabilities carry no `properties`:
///   https://developer.amazon.com/ja-JP/docs/alexa/device-apis/alexa-inventoryusagesensor.html,
///   https://developer.amazon.com/ja-JP/docs/alexa/device-apis/alexa-inventorylevelusagesensor.html
/// - a replenishment id not known at discovery can be given later in an AddOrUpdateReport (all
///   three interface pages), so `replenishment` is left out while `dash_replenishment_id` is unset.
public enum AlexaDiscovery {
    /// Friendly names are text in this locale (the inventory interfaces started in the United States).
    static let locale = "en-US"

    public static func render(_ config: AgentConfig) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(Endpoint(config: config)), as: UTF8.self)
    }

    /// Why `id` cannot be an Alexa endpointId, or nil when it can.
    public static func endpointIDProblem(_ id: String) -> String? {
        let allowed = id.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "_-=#;:?@&".unicodeScalars.contains($0))
        }
        guard allowed, (1...256).contains(id.unicodeScalars.count) else {
            return "expected an Alexa endpoint id of 1 to 256 letters, digits or _ - = # ; : ? @ &, got '\(id)'"
        }
        return nil
    }

    static func interface(for sensor: SensorKind) -> String {
        switch sensor {
        case .level: "Alexa.InventoryLevelSensor"
        case .usage: "Alexa.InventoryUsageSensor"
        case .levelUsage: "Alexa.InventoryLevelUsageSensor"
        }
    }

    struct Endpoint: Encodable {
        var endpointId: String
        var capabilities: [Capability]

        init(config: AgentConfig) {
            endpointId = config.device.alexaEndpointID
            capabilities = [Capability(interface: "Alexa")] + config.slots.map(Capability.init(slot:))
        }
    }

    struct Capability: Encodable {
        var type = "AlexaInterface"
        var interface: String
        var version = "3"
        var instance: String?
        var capabilityResources: Resources?
        var properties: Properties?
        var configuration: Configuration?

        init(interface: String) {
            self.interface = interface
        }

        init(slot: SlotConfig) {
            let definition = slot.definition
            interface = AlexaDiscovery.interface(for: definition.sensor)
            instance = definition.alexaInstance
            capabilityResources = Resources(friendlyNames: [FriendlyName(text: slot.alexaFriendlyName)])
            // The device reports its level on its own schedule; Alexa does not ask it.
            properties = definition.sensor == .level ? Properties() : nil
            configuration = Configuration(measurement: definition.measurement,
                                          replenishment: slot.dashReplenishmentID.map { Replenishment(value: $0) })
        }
    }

    struct Resources: Encodable {
        var friendlyNames: [FriendlyName]
    }

    struct FriendlyName: Encodable {
        var text: String

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode("text", forKey: "@type")
            var value = c.nestedContainer(keyedBy: JSONKey.self, forKey: "value")
            try value.encode(text, forKey: "text")
            try value.encode(AlexaDiscovery.locale, forKey: "locale")
        }
    }

    struct Properties: Encodable {
        var supported = [["name": "level"]]
        var proactivelyReported = true
        var retrievable = false
    }

    struct Configuration: Encodable {
        var measurement: Measurement
        var replenishment: Replenishment?

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            var m = c.nestedContainer(keyedBy: JSONKey.self, forKey: "measurement")
            try m.encode(measurement.type.rawValue, forKey: "@type")
            try m.encodeIfPresent(measurement.unit?.rawValue, forKey: "unit")
            try c.encodeIfPresent(replenishment, forKey: "replenishment")
        }
    }

    struct Replenishment: Encodable {
        var value: String

        func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode("DashReplenishmentId", forKey: "@type")
            try c.encode(value, forKey: "value")
        }
    }
}
