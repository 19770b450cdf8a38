import Foundation
import ReplenishTestSupport
import Testing

/// `{base}/state` (issue 17, item 4): a command the broker lost with the device's session is seen
/// missing from the device's state when it comes back, sent again by the cloud, applied once,
/// and the states converge. Real binary, real mosquitto. The session is lost in two ways: the
/// broker runs without persistence and is restarted while the device is offline, or the device
/// asks for an MQTT 5 session expiry of 2s and stays offline until mosquitto logs that it expired
/// the session (AWS IoT Core discards a session's queue after its expiry, an hour by default).
@Suite("the device's state on every connect")
struct StateAnnouncementTests {
    static let base = "replenish/v1/state-test"

    static func states(_ subscriber: Subscriber) -> [[String: Any]] {
        subscriber.rawMessages.filter { $0.topic == base + "/state" }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.payload.utf8)) as? [String: Any]
        }
    }

    static func answered(_ state: [String: Any]) -> [String] {
        ((state["commands"] as? [[String: Any]]) ?? []).compactMap { $0["correlationId"] as? String }
    }

    static func slot(_ state: [String: Any], _ id: String) -> [String: Any]? {
        (state["slots"] as? [[String: Any]])?.first { $0["slot"] as? String == id }
    }

    @Test("a command lost with the session is missing from the state, sent again, applied once, and the states agree",
          arguments: ["broker restart", "session expiry"])
    func lostCommandConverges(_ loss: String) async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start()
        defer { broker.stop() }
        let config = directory.path("replenishd.yaml")
        let expiry = loss == "session expiry" ? "\n  session_expiry: 2s" : ""
        try testConfig(deviceID: "state-test", broker: broker, database: directory.path("state.db"))
            .replacingOccurrences(of: "  url: \(broker.url)", with: "  url: \(broker.url)" + expiry)
            .write(toFile: config, atomically: true, encoding: .utf8)
        let cloud = try Subscriber(broker: broker, base: Self.base)
        defer { cloud.stop() }
        try await cloud.ready()

        let first = try DaemonProcessTests.launch(["run", "--config", config, "--simulate"], in: directory, name: "first")
        try await waitUntil("the first state") { !Self.states(cloud).isEmpty }
        let initial = try #require(Self.states(cloud).first)
        #expect(initial["schema"] as? String == "replenish.state/1")
        #expect(Self.answered(initial).isEmpty)
        #expect(Self.slot(initial, "water")?["replenishment"] as? String == "idle")
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)

        // While the device is offline the cloud places an order; the broker queues it for the
        // device's session, then loses it (restarted without persistence, or the session expired).
        let order = #"{"correlationId":"p-1","slot":"water","orderId":"o-1","quantity":500}"#
        try cloud.client.publish(topic: Self.base + "/commands/orderPlaced", payload: Array(order.utf8), qos: 1, retain: false)
        try await waitUntil("the broker has the order") {
            cloud.rawMessages.contains { $0.topic == Self.base + "/commands/orderPlaced" }
        }
        if loss == "session expiry" {
            #expect(await broker.waitForLog(containing: "Expiring client state-test due to timeout"), "\(broker.logTail())")
        } else {
            try broker.restart()
        }

        let seen = Self.states(cloud).count
        let second = try DaemonProcessTests.launch(["run", "--config", config, "--simulate"], in: directory, name: "second")
        defer { kill(second.processIdentifier, SIGTERM); second.waitUntilExit() }
        try await waitUntil("the state after the restart") { Self.states(cloud).count > seen }
        let after = try #require(Self.states(cloud).last)
        #expect(!Self.answered(after).contains("p-1"), "the order never reached the device")
        #expect(Self.slot(after, "water")?["replenishment"] as? String == "idle")
        #expect(!cloud.messages.contains { Reply($0)?.correlationId == "p-1" })

        // The cloud sends again what the state does not list (twice here: a retry is harmless).
        for _ in 0..<2 {
            try cloud.client.publish(topic: Self.base + "/commands/orderPlaced", payload: Array(order.utf8), qos: 1, retain: false)
        }
        try await waitUntil("the state lists the order") {
            Self.states(cloud).contains { Self.answered($0).contains("p-1") }
        }
        let converged = try #require(Self.states(cloud).last { Self.answered($0).contains("p-1") })
        #expect(Self.slot(converged, "water")?["replenishment"] as? String == "placed")
        #expect(Self.slot(converged, "water")?["orderId"] as? String == "o-1")
        #expect(Self.slot(converged, "water")?["lastAppliedCorrelationId"] as? String == "p-1")
        try await cloud.waitFor("both replies") { $0.filter { Reply($0)?.correlationId == "p-1" }.count == 2 }
        let replies = cloud.messages.compactMap(Reply.init).filter { $0.correlationId == "p-1" }
        #expect(replies.allSatisfy { $0.status == "ok" })
        let placed = cloud.messages.filter { $0.topic.hasSuffix("/events") && $0.json.contains(#""orderId":"o-1""#) }
        #expect(placed.count == 1, "applied once: one orderStateChanged, got \(placed.count)")

        // Retained: a cloud service that subscribes later gets the newest state at once.
        let late = try Subscriber(broker: broker, base: Self.base)
        defer { late.stop() }
        try await late.ready()
        try await waitUntil("the retained state") {
            late.rawMessages.contains { $0.topic == Self.base + "/state" && $0.retained && $0.payload.contains(#""p-1""#) }
        }
    }
}
