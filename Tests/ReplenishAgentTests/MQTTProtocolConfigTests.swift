@testable import ReplenishAgent
import ReplenishMQTT
import Testing

/// Issue 17 item 1: `mqtt.protocol` (5 by default, 3.1.1) and `mqtt.session_expiry` (MQTT 5's
/// session expiry interval, 1h by default, at most 7d under aws-iot; its mistakes are in
/// BrokerProfileTests).
@Suite("config: MQTT protocol and session expiry")
struct MQTTProtocolConfigTests {
    static let url = BrokerProfileTests.url
    static let aws = BrokerProfileTests.aws

    @Test("defaults: protocol 5 with a one-hour session; 3.1.1 and 7 days accepted; the client options follow")
    func defaultsAndOptions() throws {
        let plain = try ConfigLoader.parse(ConfigMistake("", Self.url, Self.url).yaml, fileName: "cfg.yaml")
        #expect(plain.mqtt.protocolVersion == .v5)
        #expect(plain.mqtt.sessionExpirySeconds == 3_600)
        let options = try MQTTOptionsBuilder.options(for: plain)
        #expect(options.protocolVersion == .v5)
        #expect(options.sessionExpirySeconds == 3_600)

        let week = try ConfigLoader.parse(ConfigMistake("", Self.url, Self.aws + "\n  session_expiry: 7d").yaml, fileName: "cfg.yaml")
        #expect(week.mqtt.sessionExpirySeconds == 7 * 86_400)
        let long = try ConfigLoader.parse(ConfigMistake("", Self.url, Self.url + "\n  session_expiry: 30d").yaml, fileName: "cfg.yaml")
        #expect(long.mqtt.sessionExpirySeconds == 30 * 86_400)

        let old = try ConfigLoader.parse(ConfigMistake("", Self.url, Self.url + "\n  protocol: 3.1.1").yaml, fileName: "cfg.yaml")
        #expect(old.mqtt.protocolVersion == .v311)
        let oldOptions = try MQTTOptionsBuilder.options(for: old)
        #expect(oldOptions.protocolVersion == .v311)
        #expect(oldOptions.sessionExpirySeconds == nil)
    }
}
