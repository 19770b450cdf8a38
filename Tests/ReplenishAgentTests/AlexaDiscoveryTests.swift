import Foundation
import ReplenishAgent
import ReplenishCore
import ReplenishTestSupport
import Testing

/// `replenishd alexa-discovery` and its config keys (issue 18, item 2).
@Suite("Alexa discovery")
struct AlexaDiscoveryTests {
    @Test("alexa-discovery prints the endpoint id, the Alexa interface and one inventory sensor per slot",
          arguments: DaemonProcessTests.profiles)
    func profileCapabilities(profile: String) throws {
        let path = DaemonProcessTests.profile(profile)
        let config = try ConfigLoader.load(path: path)
        let result = try ChildProcess.run(try replenishdExecutable(), ["alexa-discovery", "--config", path],
                                          stderr: .null)
        #expect(result.status == 0, "\(result.output)")
        let endpoint = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect(endpoint["endpointId"] as? String == config.device.id)
        let capabilities = try #require(endpoint["capabilities"] as? [[String: Any]])
        #expect(capabilities.count == config.slots.count + 1)
        #expect(capabilities.first?["interface"] as? String == "Alexa")
        let interfaces: [SensorKind: String] = [
            .level: "Alexa.InventoryLevelSensor", .usage: "Alexa.InventoryUsageSensor",
            .levelUsage: "Alexa.InventoryLevelUsageSensor",
        ]
        for (slot, capability) in zip(config.slots, capabilities.dropFirst()) {
            let definition = slot.definition
            #expect(capability["type"] as? String == "AlexaInterface")
            #expect(capability["interface"] as? String == interfaces[definition.sensor])
            #expect(capability["version"] as? String == "3")
            #expect(capability["instance"] as? String == definition.alexaInstance)
            let configuration = capability["configuration"] as? [String: Any]
            let measurement = configuration?["measurement"] as? [String: String]
            #expect(measurement?["@type"] == definition.measurement.type.rawValue)
            #expect(measurement?["unit"] == definition.measurement.unit?.rawValue)
            let names = (capability["capabilityResources"] as? [String: Any])?["friendlyNames"] as? [[String: Any]]
            #expect((names?.first?["value"] as? [String: String])?["text"] == slot.alexaFriendlyName)
            let supported = (capability["properties"] as? [String: Any])?["supported"] as? [[String: String]]
            #expect(supported == (definition.sensor == .level ? [["name": "level"]] : nil))
        }
    }

    @Test("the endpoint id, friendly name and Dash replenishment id: defaults, set, and in the output")
    func keys() throws {
        let defaults = try ConfigLoader.parse(ConfigMistake("", "    capacity: 1.8", "    capacity: 1.8").yaml,
                                              fileName: "cfg.yaml")
        #expect(defaults.device.alexaEndpointID == "cm-000123")
        #expect(defaults.slots[0].alexaFriendlyName == "Water tank")
        #expect(defaults.slots[0].dashReplenishmentID == nil)
        #expect(!(try AlexaDiscovery.render(defaults)).contains("replenishment"))

        let set = try ConfigLoader.parse(ConfigMistake("", replacing: [
            ("  id: cm-000123", "  id: cm-000123\n  alexa_endpoint_id: maker#cm-000123"),
            ("    capacity: 1.8", "    capacity: 1.8\n    alexa_friendly_name: Water\n    dash_replenishment_id: amzn1.dash.v2.r.1"),
        ]).yaml, fileName: "cfg.yaml")
        #expect(set.device.alexaEndpointID == "maker#cm-000123")
        #expect(set.slots[0].alexaFriendlyName == "Water")
        #expect(set.slots[0].dashReplenishmentID == "amzn1.dash.v2.r.1")
        let output = try #require(try JSONSerialization.jsonObject(with: Data(AlexaDiscovery.render(set).utf8)) as? [String: Any])
        #expect(output["endpointId"] as? String == "maker#cm-000123")
        let capability = (output["capabilities"] as? [[String: Any]])?.last
        let replenishment = (capability?["configuration"] as? [String: Any])?["replenishment"] as? [String: String]
        #expect(replenishment == ["@type": "DashReplenishmentId", "value": "amzn1.dash.v2.r.1"])
    }

    @Test("a bad value is refused with its position", arguments: [
        ConfigMistake("endpoint id with a slash", "  id: cm-000123", "  id: cm-000123\n  alexa_endpoint_id: a/b",
                      "cfg.yaml:3:22: device.alexa_endpoint_id: expected an Alexa endpoint id of 1 to 256 letters, digits or _ - = # ; : ? @ &, got 'a/b'"),
        ConfigMistake("empty friendly name", "    capacity: 1.8", "    capacity: 1.8\n    alexa_friendly_name: \"\"",
                      "cfg.yaml:14:26: slots[0].alexa_friendly_name: expected the name Alexa shows for the slot (1 to 128 bytes of printable text), got the quoted string ''"),
        ConfigMistake("alexa instance with a space", "    capacity: 1.8", "    capacity: 1.8\n    alexa_instance: Water Tank",
                      "cfg.yaml:14:21: slots[0].alexa_instance: expected an Alexa instance name of 1 to 64 letters, digits, '.', '_' or '-' such as 'WaterTank.Level', got 'Water Tank'"),
        ConfigMistake("alexa level step above the capacity", "    capacity: 1.8", "    capacity: 1.8\n    alexa_level_step: 2",
                      "cfg.yaml:14:23: slots[0].alexa_level_step: expected a quantity from 0 to the capacity (1.8), got 2"),
        ConfigMistake("replenishment id as a list", "    capacity: 1.8", "    capacity: 1.8\n    dash_replenishment_id: [a]",
                      "cfg.yaml:14:28: slots[0].dash_replenishment_id: expected a string"),
    ])
    func refused(mistake: ConfigMistake) throws {
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(mistake.yaml, fileName: "cfg.yaml") }
        let lines = error?.diagnostics.map(\.description) ?? []
        for expected in mistake.expected {
            #expect(lines.contains { $0.contains(expected) }, "\(lines)")
        }
    }

    @Test("a device id that cannot be an endpoint id: check and alexa-discovery exit 78 and name the key to set; setting it helps",
          arguments: ["check", "alexa-discovery"])
    func deviceIDNotAnEndpointID(command: String) throws {
        let directory = try TemporaryDirectory()
        let copy = directory.path("cfg.yaml")
        try ConfigMistake("", "  id: cm-000123", "  id: cm.000123").yaml.write(toFile: copy, atomically: true, encoding: .utf8)
        let arguments = command == "check" ? [command, "--config", copy, "--file-only"] : [command, "--config", copy]
        let result = try ChildProcess.run(try replenishdExecutable(), arguments)
        #expect(result.status == 78)
        #expect(result.output.contains("device.id: expected an Alexa endpoint id"), "\(result.output)")
        #expect(result.output.contains("set device.alexa_endpoint_id"), "\(result.output)")

        try ConfigMistake("", "  id: cm-000123", "  id: cm.000123\n  alexa_endpoint_id: cm-000123").yaml
            .write(toFile: copy, atomically: true, encoding: .utf8)
        let fixed = try ChildProcess.run(try replenishdExecutable(), arguments, stdout: .null)
        #expect(fixed.status == 0, "\(fixed.output)")
    }

    @Test("alexa_instance: Alexa's characters only, one per slot (derived ones included); alexa_level_step a quantity or a percentage")
    func instancesAndStep() throws {
        let step = try ConfigLoader.parse(ConfigMistake("", "    capacity: 1.8", "    capacity: 1.8\n    alexa_level_step: 5%").yaml,
                                          fileName: "cfg.yaml")
        #expect(abs(step.slots[0].definition.alexaLevelStep - 0.09) < 1e-9)
        let byDefault = try ConfigLoader.parse(ConfigMistake("", "    capacity: 1.8", "    capacity: 1.8").yaml, fileName: "cfg.yaml")
        #expect(abs(byDefault.slots[0].definition.alexaLevelStep - 0.018) < 1e-9)

        // water_tank and water-tank both derive WaterTank.Level.
        let twin = "    source: {driver: simulated}"
        let twins = ConfigMistake("", twin, twin + "\n  - id: water-tank\n    sensor: level\n    measurement: {type: Volume, unit: LITER}\n"
                                  + "    capacity: 1.8\n    source: {driver: simulated}")
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(twins.yaml, fileName: "cfg.yaml") }
        let lines = error?.diagnostics.map(\.description) ?? []
        #expect(lines.contains { $0.contains("slots[1].alexa_instance: duplicate Alexa instance 'WaterTank.Level' (also slots[0]'s") },
                "\(lines)")
    }
}
