import Foundation
import ReplenishCore
import Testing
@testable import ReplenishAgent

/// The remote-settable list: one decision for every key of the file format.
@Suite("Remote-settable keys")
struct RemoteSettableKeysTests {
    /// Every key path of `node`, with `[i]` indices.
    static func keyPaths(_ node: Node, _ path: String = "") -> [String] {
        switch node {
        case .scalar: return [path]
        case let .sequence(sequence):
            return sequence.enumerated().flatMap { keyPaths($0.element, "\(path)[\($0.offset)]") }
        case let .mapping(mapping):
            return mapping.flatMap { key, value in
                let name = key.scalar?.string ?? ""
                return keyPaths(value, path.isEmpty ? name : "\(path).\(name)")
            }
        }
    }

    @Test("every key of every shipped profile and every slot key the reader knows has a rule")
    func everyKeyDecided() throws {
        let profiles = try FileManager.default.contentsOfDirectory(atPath: "Hardware/profiles").filter { $0.hasSuffix(".yaml") }
        #expect(profiles.count >= 3)
        var checked = 0
        for profile in profiles {
            let text = try String(contentsOfFile: "Hardware/profiles/\(profile)", encoding: .utf8)
            let root = try #require(try YAMLDocument.compose(text))
            for path in Self.keyPaths(root) {
                #expect(RemoteSettableKeys.rule(for: path) != nil, "\(profile): \(path) is in no rule")
                checked += 1
            }
        }
        #expect(checked > 50)
        let slotKeys = ConfigReader.slotKeys.map { "slots[0].\($0)" }
            + ReplenishmentSettings.yamlKeys.map { "slots[0].replenishment.\($0)" }
        for path in slotKeys { #expect(RemoteSettableKeys.rule(for: path) != nil, "\(path) is in no rule") }
    }

    @Test("local-only keys say why; the slot keys the cloud tunes are settable")
    func decisions() {
        for local in ["device.id", "storage.path", "mqtt.key_file", "mqtt.password_file", "mqtt.username",
                      "slots[0].source.driver", "slots[3].capacity", "slots[1].source.filters[0].median"] {
            guard case let .localOnly(reason)? = RemoteSettableKeys.rule(for: local)?.setting else {
                Issue.record("\(local) is not local-only")
                continue
            }
            #expect(!reason.isEmpty)
        }
        for settable in ["slots[0].low_threshold", "slots[2].replenishment.lead_time_days", "report.daily_at",
                         "slots[1].alexa_friendly_name", "slots[1].alexa_level_step", "slots[0].forecast_days", "version"] {
            #expect(RemoteSettableKeys.rule(for: settable)?.setting == .settable, "\(settable)")
        }
        #expect(RemoteSettableKeys.rule(for: "mqtt.url")?.setting == .connection)
        #expect(RemoteSettableKeys.rule(for: "slots[0].made_up") == nil)
        #expect(RemoteSettableKeys.pattern(of: "slots[12].source.filters[0].median") == "slots[].source.filters[].median")
    }

    @Test("secrets are recognised by key name and by a PEM private key value")
    func secrets() {
        #expect(RemoteSettableKeys.namesSecret("mqtt_password"))
        #expect(RemoteSettableKeys.namesSecret("api_token"))
        #expect(!RemoteSettableKeys.namesSecret("low_threshold"))
        #expect(RemoteSettableKeys.looksSecret("-----BEGIN EC PRIVATE KEY-----\nMHc..."))
        #expect(!RemoteSettableKeys.looksSecret("Coffee pods"))
    }
}
