import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishMQTT
import ReplenishStore
import Testing
import ReplenishTestSupport

/// Issue 13's command bugs, reproduced through a real mosquitto (and the real binary where the bug
/// needed restarts): a command can no longer poison the reports, invent consumption, or run twice.
@Suite("hostile commands through a real broker", .serialized)
struct HostileCommandDeliveryTests {
    /// The `water` slot of the last report with `reason`, as JSON.
    static func water(in messages: [ReceivedMessage], reason: String) throws -> [String: Any] {
        let report = try #require(messages.last { $0.reason == reason })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let slots = try #require(object["slots"] as? [[String: Any]])
        return try #require(slots.first { $0["slot"] as? String == "water" })
    }

    @Test("1e308 and out-of-capacity quantities are rejected with the bound; reports and replies go on")
    func boundedQuantities() async throws {
        let h = try await DeliveryTests.Harness(device: "bounds-test")
        try await h.connected()
        let hostile = [
            ("inventoryAdjust", #"{"correlationId":"h1","slot":"water","remainingQuantityInUnit":1e308}"#, "from 0 to 1000000000"),
            ("inventoryAdjust", #"{"correlationId":"h2","slot":"water","totalQuantityOnHand":1.8e305}"#, "from 0 to 1000000000"),
            ("inventoryAdjust", #"{"correlationId":"h3","slot":"water","remainingQuantityInUnit":999999}"#,
             "exceeds the slot's capacity (1800)"),
            ("orderShipped", #"{"correlationId":"h4","slot":"water","orderId":"o","quantity":1e9}"#,
             "above the most this slot may have on hand (1800000"),
        ]
        for (name, payload, _) in hostile { try CommandTests.send(h, name, Array(payload.utf8)) }
        try CommandTests.send(h, "reportNow", Array(#"{"correlationId":"after"}"#.utf8))
        try await h.subscriber.waitFor("the report after them") { $0.contains { $0.reason == "command" } }
        try await h.subscriber.waitFor("its reply") { $0.contains { Reply($0)?.correlationId == "after" } }
        let before = try Self.water(in: h.subscriber.messages, reason: "command")
        // The next readings count only real use.
        try await h.advanceOneHour()
        try await h.subscriber.waitFor("a periodic report") { $0.contains { $0.reason == "periodic" } }
        try await h.stop()

        let replies = h.subscriber.replies
        for (_, payload, reason) in hostile {
            let id = String(payload.dropFirst(#"{"correlationId":""#.count).prefix(2))
            let reply = try #require(replies.first { $0.correlationId == id })
            #expect(reply.status == "rejected")
            #expect(reply.error?.contains(reason) == true, "\(reply.error ?? "nil")")
        }
        #expect(replies.last { $0.correlationId == "after" }?.status == "ok")
        let after = try Self.water(in: h.subscriber.messages, reason: "periodic")
        let consumed = try #require(after["consumedTotal"] as? Double)
        #expect(consumed < 1800, "no invented consumption: \(consumed)")
        #expect(after["totalQuantityOnHand"] as? Double == 0)
        #expect(before["totalQuantityOnHand"] as? Double == 0)
    }

    @Test("the same command delivered twice is answered twice and applied once")
    func duplicateDelivery() async throws {
        let h = try await DeliveryTests.Harness(device: "duplicate-test")
        try await h.connected()
        let shipped = Array(#"{"correlationId":"ship-1","slot":"water","orderId":"o-1","quantity":500}"#.utf8)
        try CommandTests.send(h, "orderShipped", shipped)
        try CommandTests.send(h, "orderShipped", shipped)
        try await h.subscriber.waitFor("both replies") { $0.compactMap(Reply.init).count == 2 }
        try CommandTests.send(h, "reportNow", Array(#"{"correlationId":"r"}"#.utf8))
        try await h.subscriber.waitFor("the report") { $0.contains { $0.reason == "command" } }
        try await h.stop()
        #expect(h.subscriber.replies.prefix(2).map(\.status) == ["ok", "ok"])
        #expect(try Self.water(in: h.subscriber.messages, reason: "command")["totalQuantityOnHand"] as? Double == 500)
        let stateChanges = h.subscriber.messages.filter { $0.json.contains(#""orderStateChanged""#) }
        #expect(stateChanges.count == 1)
    }

    @Test("500 slots: the report goes out in parts within max_message_size, every slot once")
    func reportInParts() async throws {
        let h = try await DeliveryTests.Harness(device: "parts-test") { config in
            let template = config.slots[0]
            for i in 0..<500 {
                var slot = template
                slot.definition.id = "tank-\(i)"
                slot.definition.alexaInstance = "Tank\(i).Level"
                config.slots.append(slot)
            }
        }
        try await h.connected()
        try CommandTests.send(h, "reportNow", Array(#"{"correlationId":"big"}"#.utf8))
        try await h.subscriber.waitFor("the reply") { $0.contains { Reply($0)?.correlationId == "big" } }
        try await h.stop()

        let parts = h.subscriber.messages.filter { $0.reason == "command" }.sorted { $0.seq < $1.seq }
        // (The levels did not change since the start-up report: no ChangeReports, so 2 parts.)
        #expect(parts.count >= 2)
        var slots: [String] = []
        for (index, message) in parts.enumerated() {
            #expect(message.json.utf8.count <= MQTTSettings.defaultMaxMessageBytes)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any])
            let part = try #require(object["part"] as? [String: Any])
            #expect(part["number"] as? Int == index + 1)
            #expect(part["count"] as? Int == parts.count)
            #expect((part["firstSeq"] as? NSNumber)?.uint64Value == parts[0].seq)
            slots += (object["slots"] as? [[String: Any]] ?? []).compactMap { $0["slot"] as? String }
        }
        #expect(slots == h.config.slots.map(\.definition.id))
        let reply = try #require(h.subscriber.messages.first { Reply($0)?.correlationId == "big" })
        #expect(reply.seq == parts.last!.seq + 1, "the reply is committed right after the last part")
    }

    @Test("a report that cannot be built still gets its reply, and the commands after it are answered")
    func unbuildableReport() async throws {
        // Below the configurable minimum, so no slot fits: the one way left to make a report unencodable.
        let h = try await DeliveryTests.Harness(device: "unbuildable-test") { $0.mqtt.maxMessageBytes = 600 }
        try await h.subscriber.waitFor("the device's availability") { _ in
            h.subscriber.rawMessages.contains { $0.topic.hasSuffix("/availability") && $0.payload == "online" }
        }
        try CommandTests.send(h, "reportNow", Array(#"{"correlationId":"n-1"}"#.utf8))
        try CommandTests.send(h, "orderPlaced", Array(#"{"correlationId":"n-2","slot":"water","orderId":"o-1"}"#.utf8))
        try await h.subscriber.waitFor("both replies") { $0.compactMap(Reply.init).count == 2 }
        try await h.stop()
        let replies = h.subscriber.replies
        #expect(replies[0].correlationId == "n-1" && replies[0].status == "rejected")
        #expect(replies[0].error?.contains("the status report could not be built: slot 'water' alone makes a status report of") == true,
                "\(replies[0].error ?? "nil")")
        #expect(replies[1] == Reply.ok("n-2", "orderPlaced"))
        #expect(!h.subscriber.messages.contains { $0.topic.hasSuffix("/status") })
    }

    @Test("through the real binary: after hostile quantities and a restart, reports and replies go on and no use is invented")
    func hostileAcrossRestart() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start(persistence: true)
        defer { broker.stop() }
        let base = "replenish/v1/poison-test"
        let configPath = directory.path("replenishd.yaml")
        try testConfig(deviceID: "poison-test", broker: broker, database: directory.path("state.db"))
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let subscriber = try Subscriber(broker: broker, base: base)
        defer { subscriber.stop() }
        try await subscriber.ready()
        func send(_ name: String, _ json: String) throws {
            try subscriber.client.publish(topic: base + "/commands/" + name, payload: Array(json.utf8), qos: 1, retain: false)
        }
        let arguments = ["run", "--config", configPath, "--simulate"]
        let first = try DaemonProcessTests.launch(arguments, in: directory, name: "first")
        try await subscriber.waitFor("the start") { $0.contains { $0.reason == "startup" } }
        try send("inventoryAdjust", #"{"correlationId":"p1","slot":"water","remainingQuantityInUnit":1e308}"#)
        try send("inventoryAdjust", #"{"correlationId":"p2","slot":"water","remainingQuantityInUnit":999999}"#)
        try send("inventoryAdjust", #"{"correlationId":"p3","slot":"water","totalQuantityOnHand":1.8e305}"#)
        try await subscriber.waitFor("three replies") { $0.compactMap(Reply.init).count == 3 }
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)

        let second = try DaemonProcessTests.launch(arguments, in: directory, name: "second")
        try await subscriber.waitFor("the restart") { $0.filter { $0.reason == "startup" }.count == 2 }
        try send("reportNow", #"{"correlationId":"p4"}"#)
        try await subscriber.waitFor("the report after the restart") { $0.contains { $0.reason == "command" } }
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()

        #expect(subscriber.replies.map(\.status) == ["rejected", "rejected", "rejected", "ok"])
        let water = try Self.water(in: subscriber.messages, reason: "command")
        #expect((water["consumedTotal"] as? Double ?? .infinity) < 1800)
        #expect(water["totalQuantityOnHand"] as? Double == 0)
    }

    @Test("a retained command never runs: one rejected reply across starts and reloads, and clearing it is no command")
    func retainedCommand() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start(persistence: true)
        defer { broker.stop() }
        let base = "replenish/v1/retain-test"
        let configPath = directory.path("replenishd.yaml")
        func writeConfig(every: String) throws {
            try testConfig(deviceID: "retain-test", broker: broker, database: directory.path("state.db"), every: every)
                .write(toFile: configPath, atomically: true, encoding: .utf8)
        }
        try writeConfig(every: "1h")
        let subscriber = try Subscriber(broker: broker, base: base)
        defer { subscriber.stop() }
        try await subscriber.ready()
        // Published with the retain flag before the device ever connected.
        try subscriber.client.publish(topic: base + "/commands/orderShipped",
                                      payload: Array(#"{"correlationId":"r-1","slot":"water","orderId":"o-1","quantity":500}"#.utf8),
                                      qos: 1, retain: true)
        // Only once the broker has handled it (its copy comes back to us) is it a retained message
        // waiting for the device; a device that subscribed first would get it live, unretained.
        try await waitUntil("the broker has the retained command") {
            subscriber.rawMessages.contains { $0.topic == base + "/commands/orderShipped" }
        }

        let arguments = ["run", "--config", configPath, "--simulate"]
        let first = try DaemonProcessTests.launch(arguments, in: directory, name: "first")
        try await subscriber.waitFor("the rejection") { $0.contains { Reply($0)?.correlationId == "r-1" } }
        // Reloads with a changed config subscribe again, and the broker hands the retained message over again.
        for every in ["2h", "3h"] {
            try writeConfig(every: every)
            @Sendable func reloads() -> Int {
                ((try? String(contentsOfFile: directory.path("first.err"), encoding: .utf8)) ?? "")
                    .components(separatedBy: "configuration reloaded").count - 1
            }
            let before = reloads()
            kill(first.processIdentifier, SIGHUP)
            try await waitUntil("the reload") { reloads() > before }
            try subscriber.client.publish(topic: base + "/commands/reportNow",
                                          payload: Array(#"{"correlationId":"after-\#(every)"}"#.utf8), qos: 1, retain: false)
            try await subscriber.waitFor("a command after the reload") {
                $0.contains { Reply($0)?.correlationId == "after-\(every)" }
            }
        }
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()

        let second = try DaemonProcessTests.launch(arguments, in: directory, name: "second")
        try await subscriber.waitFor("the second start") { $0.filter { $0.reason == "startup" }.count >= 2 }
        // The broker hands the retained copy over on the new subscription: logged, not answered.
        try await waitUntil("the retained copy ignored") {
            ((try? String(contentsOfFile: directory.path("second.err"), encoding: .utf8)) ?? "").contains("retained command ignored")
        }
        // Clearing the retained command.
        try subscriber.client.publish(topic: base + "/commands/orderShipped", payload: [], qos: 1, retain: true)
        try subscriber.client.publish(topic: base + "/commands/reportNow",
                                      payload: Array(#"{"correlationId":"last"}"#.utf8), qos: 1, retain: false)
        try await subscriber.waitFor("the last reply") { $0.contains { Reply($0)?.correlationId == "last" } }
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()

        let replies = subscriber.replies
        #expect(replies.filter { $0.correlationId == "r-1" }.count == 1, "\(replies)")
        let rejection = try #require(replies.first { $0.correlationId == "r-1" })
        #expect(rejection.status == "rejected")
        #expect(rejection.error?.hasPrefix("retained commands are never executed") == true)
        #expect(!replies.contains { $0.correlationId == nil }, "clearing it was answered as a command")
        #expect(replies.allSatisfy { $0.correlationId == "r-1" || $0.status == "ok" })
        #expect(try Self.water(in: subscriber.messages, reason: "command")["totalQuantityOnHand"] as? Double == 0)
    }
}
