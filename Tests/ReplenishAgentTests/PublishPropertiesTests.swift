import Foundation
@testable import ReplenishAgent
import ReplenishTestSupport
import Testing

/// Issue 17 item 1: under MQTT 5 every outbox publish carries its schema as the user property
/// `schema`, and status reports the message expiry interval `report.expire_after`. Read by
/// mosquitto_sub, an MQTT 5 client of its own that prints both (`%P`, `%E`).
@Suite("MQTT 5 publish properties through a real broker", .serialized)
struct PublishPropertiesTests {
    /// Runs mosquitto_sub against `broker` as MQTT 5 and returns what it printed.
    static func mosquittoSub(_ broker: TestBroker, _ arguments: [String]) throws -> String {
        try ChildProcess.run("/usr/bin/mosquitto_sub",
                             ["-V", "5", "-h", broker.host, "-p", "\(broker.port)", "-q", "1"] + arguments).output
    }

    @Test("the schema user property on status, event and reply; the expiry on status reports only; neither under 3.1.1",
          arguments: ["5", "3.1.1"])
    func schemaAndExpiry(_ version: String) async throws {
        let broker = try TestBroker.start()
        let device = "props-\(version == "5" ? "v5" : "v311")"
        let base = "replenish/v1/\(device)"
        // The cloud's persistent session, subscribed (-E: once the SUBACK is in) before anything is published.
        let cloud = ["-c", "-i", "cloud-\(device)", "-x", "300", "-t", base + "/#"]
        let subscribed = try Self.mosquittoSub(broker, cloud + ["-E"])
        #expect(subscribed.isEmpty, "\(subscribed)")
        let setup = try await FlowControlTests.connect(device: device, mqttKeys: "  protocol: \(version)",
                                                       reportKeys: version == "5" ? "  expire_after: 1h" : "", broker: broker)
        try RefusedPublishTests.enqueue(["status", "events", "replies"], in: setup, base: base)
        try await waitUntil("the outbox empty") { try setup.uplink.store.pending(limit: 10).isEmpty }

        // The three rows wait in the cloud's session, behind the test subscriber's probe and the
        // birth (one per connection), which -T leaves out. A row may come twice (published again
        // after a reconnect, as the contract allows): read on until all three topics were seen.
        var lines: [String] = []
        for count in [3, 1, 1, 1] where Set(lines.map { $0.prefix { $0 != "|" } }).count < 3 {
            lines += try Self.mosquittoSub(broker, cloud + ["-C", "\(count)", "-W", "10", "-F", "%t|%P|%E",
                                                            "-T", base + "/test-probe", "-T", base + "/availability"])
                .split(separator: "\n").map(String.init)
        }
        await setup.stop()
        func line(_ topic: String) -> [String]? {
            lines.first { $0.hasPrefix(base + "/" + topic + "|") }.map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
        }
        let status = try #require(line("status"), "\(lines)\n\(setup.log.tail(40))")
        let event = try #require(line("events"), "\(lines)\n\(setup.log.tail(40))")
        let reply = try #require(line("replies"), "\(lines)\n\(setup.log.tail(40))")
        if version == "5" {
            #expect(status[1] == "schema:replenish.status/1")
            #expect(event[1] == "schema:replenish.event/1")
            #expect(reply[1] == "schema:replenish.reply/1")
            // What is left of the hour while it waited at the broker.
            let expiry = try #require(Int(status[2]), "\(status)")
            #expect((3_590...3_600).contains(expiry))
            #expect(event[2].isEmpty && reply[2].isEmpty)
        } else {
            #expect([status, event, reply].allSatisfy { $0[1].isEmpty && $0[2].isEmpty }, "\(lines)")
        }
    }

    @Test("report.expire_after is whole seconds, at least 1s")
    func expireAfterConfig() throws {
        let url = BrokerProfileTests.url
        let set = ConfigMistake("", url, url).yaml.replacingOccurrences(of: "report:\n", with: "report:\n  expire_after: 2h\n")
        #expect(try ConfigLoader.parse(set, fileName: "cfg.yaml").report.expireAfterSeconds == 7_200)
        #expect(try ConfigLoader.parse(ConfigMistake("", url, url).yaml, fileName: "cfg.yaml").report.expireAfterSeconds == nil)
        let zero = ConfigMistake("", url, url).yaml.replacingOccurrences(of: "report:\n", with: "report:\n  expire_after: 0s\n")
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(zero, fileName: "cfg.yaml") }
        #expect(error?.diagnostics.first?.description.contains("report.expire_after: expected a duration at least 1s") == true,
                "\(error?.diagnostics ?? [])")
        // Like session_expiry: refused where it could only be ignored.
        let v311 = ConfigMistake("", url, url + "\n  protocol: 3.1.1").yaml
            .replacingOccurrences(of: "report:\n", with: "report:\n  expire_after: 2h\n")
        let refused = #expect(throws: AgentError.self) { try ConfigLoader.parse(v311, fileName: "cfg.yaml") }
        #expect(refused?.diagnostics.map(\.description).contains {
            $0.contains("report.expire_after: expire_after needs mqtt.protocol: 5") && $0.hasPrefix("cfg.yaml:")
        } == true, "\(refused?.diagnostics ?? [])")
    }
}
