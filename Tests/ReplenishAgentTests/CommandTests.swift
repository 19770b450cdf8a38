import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishMQTT
import Testing

/// A reply as the cloud reads it.
struct Reply: Sendable, Equatable {
    var correlationId: String?
    var command: String
    var status: String
    var error: String?

    init?(_ message: ReceivedMessage) {
        guard message.topic.hasSuffix("/replies"),
              let object = try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any],
              let command = object["command"] as? String, let status = object["status"] as? String else { return nil }
        correlationId = object["correlationId"] as? String
        self.command = command
        self.status = status
        error = object["error"] as? String
    }
}

extension Subscriber {
    var replies: [Reply] { messages.compactMap(Reply.init) }
}

@Suite("commands, availability and the bounded outbox, through a real broker", .serialized)
struct CommandTests {
    static func send(_ h: DeliveryTests.Harness, _ name: String, _ payload: [UInt8]) throws {
        try h.subscriber.client.publish(topic: h.config.mqtt.baseTopic + "/commands/" + name, payload: payload,
                                        qos: 1, retain: false)
    }

    @Test("reportNow builds a report and answers ok with its correlationId")
    func reportNow() async throws {
        let h = try await DeliveryTests.Harness(device: "command-test")
        try await h.connected()
        try Self.send(h, "reportNow", Array(#"{"correlationId":"c-42"}"#.utf8))
        try await h.subscriber.waitFor("the reply") { $0.contains { Reply($0)?.correlationId == "c-42" } }
        try await h.subscriber.waitFor("the report") { $0.contains { $0.reason == "command" } }
        try await h.stop()
        #expect(h.subscriber.replies == [Reply.ok("c-42", "reportNow")])
        // The report and its reply were committed together: consecutive seqs, report first.
        let report = try #require(h.subscriber.messages.first { $0.reason == "command" })
        let reply = try #require(h.subscriber.messages.first { $0.topic.hasSuffix("/replies") })
        #expect(reply.seq == report.seq + 1)
    }

    @Test("a malformed command is rejected with a reason, and the daemon stays up", arguments: [
        ("reportNow", "not json", nil, "invalid JSON"),
        ("reportNow", #"["correlationId"]"#, nil, "expected a JSON object"),
        ("reportNow", #"{"correlationId": 7}"#, nil, "correlationId must be a string"),
        ("reportNow", #"{}"#, nil, "missing correlationId"),
        ("reportNow", #"{"correlationId":"c-1","extra":true}"#, "c-1", "unknown field 'extra'"),
        ("selfDestruct", #"{"correlationId":"c-2"}"#, "c-2", "unknown command 'selfDestruct'"),
        ("orderPlaced", #"{"correlationId":"c-3"}"#, "c-3", "missing slot"),
        ("reportNow", String(repeating: " ", count: 5000) + "{}", nil, "payload of 5002 bytes exceeds the limit of 4096"),
    ] as [(String, String, String?, String)])
    func rejected(name: String, payload: String, correlationId: String?, reason: String) async throws {
        let h = try await DeliveryTests.Harness(device: "reject-test")
        try await h.connected()
        try Self.send(h, name, Array(payload.utf8))
        try await h.subscriber.waitFor("the rejection") { !$0.compactMap(Reply.init).isEmpty }
        let reply = try #require(h.subscriber.replies.first)
        #expect(reply.status == "rejected")
        #expect(reply.correlationId == correlationId)
        #expect(reply.command == name)
        #expect(reply.error?.hasPrefix(reason) == true, "\(reply.error ?? "nil")")
        // Still up: a good command is answered.
        try Self.send(h, "reportNow", Array(#"{"correlationId":"after"}"#.utf8))
        try await h.subscriber.waitFor("the next reply") { $0.contains { Reply($0)?.correlationId == "after" } }
        try await h.stop()
    }

    @Test("thousands of random and mutated command payloads are each answered and the daemon stays up")
    func fuzzedCommands() async throws {
        let h = try await DeliveryTests.Harness(device: "fuzz-test")
        try await h.connected()
        var random = SplitMix64(seed: 0xF022)
        let seeds = [#"{"correlationId":"c-1"}"#, #"{"correlationId":"x","extra":[1,2,{"a":null}]}"#, "{}", "[]",
                     #"{"correlationId":"\u0000"}"#, "\"str\"", "1e999", #"{"correlationId":{"nested":true}}"#]
        let names = CommandName.allCases.map(\.rawValue) + ["", "x", "reportnow", "reportNow/extra", "ü"]
        let count = 1500
        var empty = 0  // an empty message clears a retained command: no command, no reply
        for _ in 0..<count {
            var payload = Array(seeds[Int(random.next() % UInt64(seeds.count))].utf8)
            switch random.next() % 4 {
            case 0:  // random bytes
                payload = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            case 1:  // flip, insert, delete bytes
                for _ in 0..<(1 + random.next() % 4) where !payload.isEmpty {
                    let at = Int(random.next() % UInt64(payload.count))
                    switch random.next() % 3 {
                    case 0: payload[at] = UInt8(truncatingIfNeeded: random.next())
                    case 1: payload.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                    default: payload.remove(at: at)
                    }
                }
            case 2:  // deep nesting
                let depth = Int(random.next() % 3000)
                payload = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
            default:
                break
            }
            var name = names[Int(random.next() % UInt64(names.count))]
            if name.contains("/") || name.isEmpty { name = "bad" }
            if payload.isEmpty { empty += 1 }
            try Self.send(h, name, payload)
        }
        try Self.send(h, "reportNow", Array(#"{"correlationId":"final"}"#.utf8))
        try await h.subscriber.waitFor("the last reply", within: .seconds(60)) {
            $0.contains { Reply($0)?.correlationId == "final" }
        }
        let replies = h.subscriber.replies
        try await h.stop()
        #expect(empty > 0)
        #expect(replies.count == count - empty + 1, "every command gets exactly one reply")
        #expect(replies.last == Reply.ok("final", "reportNow"))
    }

    @Test("availability: retained online after connecting, retained offline after a clean stop")
    func availability() async throws {
        let h = try await DeliveryTests.Harness(device: "availability-test")
        let topic = h.config.mqtt.baseTopic + "/availability"
        try await waitUntil("online") { h.subscriber.rawMessages.contains { $0.topic == topic && $0.payload == "online" } }
        try await h.stop(keepBroker: true)
        try await waitUntil("offline") {
            h.subscriber.rawMessages.last { $0.topic == topic }?.payload == "offline"
        }
        // A newcomer sees the retained state.
        let late = try Subscriber(broker: h.broker, base: h.config.mqtt.baseTopic)
        try await waitUntil("retained offline") {
            late.rawMessages.contains { $0.topic == topic && $0.payload == "offline" && $0.retained }
        }
        late.stop()
        h.broker.stop()
    }

    @Test("a 1 KiB outbox through a long outage: the daemon keeps running, evicts old reports, reports the evictions, and consumedTotal still accounts for everything")
    func boundedOutbox() async throws {
        let h = try await DeliveryTests.Harness(device: "evict-test") { $0.storage.outboxLimitBytes = 1024 }
        try await h.subscriber.waitFor("the start-up report") { $0.contains { $0.reason == "startup" } }
        try await waitUntil("the outbox drained") { try h.outbox().count == 0 }
        h.broker.stop()
        try await waitUntil("the service notices") { !h.service.delivery.connected }
        for _ in 1...24 { try await h.advanceOneHour() }
        try await waitUntil("a day of reports committed") { h.service.lastCommittedSeq >= 25 }
        let queued = try h.outbox()
        #expect(queued.count >= 1)
        #expect(queued.count < 24, "old reports were evicted")

        try h.broker.restart()
        try await h.subscriber.waitFor("the eviction event") { $0.contains { $0.json.contains(#""outboxEvicted""#) } }
        try await waitUntil("the outbox empty") { try h.outbox().count == 0 }
        let lastPodsTotal = try #require(h.subscriber.messages.last { $0.topic.hasSuffix("/status") }
            .flatMap { Self.consumedTotal(of: "pods", in: $0) })
        let used = try #require(h.sources.first { $0.slot == "pods" }).totalUsed
        let eviction = try #require(h.subscriber.messages.first { $0.json.contains(#""outboxEvicted""#) })
        try await h.stop()

        let object = try #require(try JSONSerialization.jsonObject(with: Data(eviction.json.utf8)) as? [String: Any])
        let evicted = try #require(object["evictedReports"] as? Int)
        #expect(evicted > 0)
        #expect(abs(lastPodsTotal - used) < 0.01, "delivered \(lastPodsTotal), used \(used)")
        // Seqs that never arrived are exactly the evicted ones.
        let received = Set(h.subscriber.messages.map(\.seq))
        let missing = (1...h.service.lastCommittedSeq).filter { !received.contains($0) }
        #expect(missing.count == evicted)
        #expect(missing.first == object["firstEvictedSeq"] as? UInt64)
    }

    static func consumedTotal(of slot: String, in message: ReceivedMessage) -> Double? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any],
              let slots = object["slots"] as? [[String: Any]],
              let entry = slots.first(where: { $0["slot"] as? String == slot }) else { return nil }
        return (entry["consumedTotal"] as? NSNumber)?.doubleValue
    }
}

extension Reply {
    static func ok(_ correlationId: String, _ command: String) -> Reply {
        var reply = Reply(ReceivedMessage(topic: "x/replies", seq: 0, reason: nil,
                                          json: #"{"command":"\#(command)","status":"ok"}"#))!
        reply.correlationId = correlationId
        return reply
    }
}

@Suite("replenishment through a real broker", .serialized)
struct ReplenishmentDeliveryTests {
    static func event(_ message: ReceivedMessage) -> [String: Any]? {
        guard message.topic.hasSuffix("/events") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any]
    }

    static func replenishment(of slot: String, in message: ReceivedMessage) -> [String: Any]? {
        guard let object = try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any],
              let slots = object["slots"] as? [[String: Any]],
              let entry = slots.first(where: { $0["slot"] as? String == slot }) else { return nil }
        return entry["replenishment"] as? [String: Any]
    }

    /// Every `drs` member of the status reports among `messages`, as the JSON text the cloud got,
    /// and the ids of the slots that carried one.
    static func drsMembers(_ messages: [ReceivedMessage]) -> (texts: [String], slots: Set<String>) {
        let reports = messages.filter { $0.topic.hasSuffix("/status") }
        let texts = reports.flatMap { report in
            report.json.ranges(of: /"drs":\{[^}]*\}/).map { String(report.json[$0].dropFirst(#""drs":"#.count)) }
        }
        let slots = reports.flatMap { report -> [String] in
            let object = try? JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any]
            let entries = object?["slots"] as? [[String: Any]] ?? []
            return entries.filter { $0["drs"] != nil }.compactMap { $0["slot"] as? String }
        }
        return (texts, Set(slots))
    }

    @Test("device mode: a request before run-out, then the cloud's order is placed, answered and reported; duplicates are idempotent")
    func requestAndOrder() async throws {
        let h = try await DeliveryTests.Harness(device: "order-test") { config in
            config.slots[0].replenishment.mode = .device
        }
        try await h.connected()
        // The water tank (1.8 L at 0.9 L a day) runs out within days: once a whole day is known,
        // the forecast falls inside lead time plus margin and the device asks for a reorder.
        for _ in 1...30 { try await h.advanceOneHour() }
        try await h.subscriber.waitFor("the reorder request") { messages in
            messages.contains { Self.event($0)?["event"] as? String == "replenishRequested" }
        }
        let request = try #require(h.subscriber.messages.compactMap(Self.event).first { $0["event"] as? String == "replenishRequested" })
        #expect(request["slot"] as? String == "water")
        #expect(request["reason"] as? String == "forecast")

        for _ in 1...2 {  // the same notification twice: one state change
            try CommandTests.send(h, "orderPlaced", Array(#"{"correlationId":"o-1","slot":"water","orderId":"A-1","quantity":1800}"#.utf8))
        }
        try CommandTests.send(h, "orderCancelled", Array(#"{"correlationId":"o-2","slot":"water","orderId":"nope"}"#.utf8))
        try await h.subscriber.waitFor("three replies") { $0.compactMap(Reply.init).count == 3 }
        try await h.advanceOneHour()
        try await h.subscriber.waitFor("a report after the order") { messages in
            messages.contains { Self.replenishment(of: "water", in: $0)?["state"] as? String == "placed" }
        }
        try await h.stop()

        let replies = h.subscriber.replies
        #expect(replies.map(\.status) == ["ok", "ok", "rejected"])
        #expect(replies.last?.error?.isEmpty == false)
        let changes = h.subscriber.messages.compactMap(Self.event).filter { $0["event"] as? String == "orderStateChanged" }
        #expect(changes.count == 1)
        #expect(changes.first?["orderId"] as? String == "A-1")
        let placed = try #require(h.subscriber.messages.last { Self.replenishment(of: "water", in: $0) != nil })
        #expect(Self.replenishment(of: "water", in: placed)?["orderId"] as? String == "A-1")

        // Once a whole day is known the water tank's reports carry `drs`, a DRS SlotStatus body as
        // is: exactly its five keys, the quantities JSON integers, the dates ISO 8601. The pods
        // (usage, never replaced: remaining unknown) carry none.
        let drs = Self.drsMembers(h.subscriber.messages)
        #expect(!drs.texts.isEmpty)
        #expect(drs.slots == ["water"])
        for text in drs.texts {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(Set(object.keys) == ["expectedReplenishmentDate", "remainingQuantityInUnit", "originalQuantityInUnit",
                                         "totalQuantityOnHand", "lastUseDate"], "\(text)")
            for key in ["remainingQuantityInUnit", "originalQuantityInUnit", "totalQuantityOnHand"] {
                #expect(text.contains(try Regex(#""\#(key)":\d+[,}]"#)), "\(key) not an integer in \(text)")
            }
            for key in ["expectedReplenishmentDate", "lastUseDate"] {
                #expect((object[key] as? String).flatMap(Timestamp.parse) != nil, "\(key) in \(text)")
            }
        }
    }
}
