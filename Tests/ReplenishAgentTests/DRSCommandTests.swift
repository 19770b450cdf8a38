import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishTestSupport
import Testing

/// Issue 18 item 3: DRS's order notifications, forwarded untouched by the cloud, through the real
/// broker to the running service; the slot found by its `drs_slot_id`.
@Suite("DRS notifications through a real broker", .serialized)
struct DRSCommandTests {
    @Test("a placed and a shipped notification for the tank: both answered ok under their notificationIds, the order placed then shipped; sent again, answered as before")
    func placedThenShipped() async throws {
        let h = try await DeliveryTests.Harness(device: "drs-test") { config in
            config.slots[0].definition.drsSlotId = "Tank"
        }
        try await h.connected()
        let placed = DRSSample.notification(
            "OrderPlacedNotification", id: "n-placed", slotId: "Tank", order: "amzn1.dash.v2.o.tank-1",
            product: #"{"asin": "B0TANK", "quantity": 1.0, "unit": "count", "estimatedDeliveryDate": "2026-03-08"}"#)
        let shipped = DRSSample.notification(
            "ItemShippedNotification", id: "n-shipped", slotId: "Tank", order: "amzn1.dash.v2.o.tank-1",
            product: #"{"asin": "B0TANK", "quantity": 1800, "unit": "count", "estimatedDeliveryDate": "2026-03-07T07:59:59Z"}"#)
        try CommandTests.send(h, "orderPlaced", placed)
        try await h.subscriber.waitFor("the first reply") { $0.contains { Reply($0)?.correlationId == "n-placed" } }
        try CommandTests.send(h, "orderShipped", shipped)
        try CommandTests.send(h, "orderShipped", shipped)  // SNS delivers at least once
        try await h.subscriber.waitFor("three replies") { $0.compactMap(Reply.init).count == 3 }
        try await h.advanceOneHour()
        try await h.subscriber.waitFor("a report with the shipment") { messages in
            messages.contains { ReplenishmentDeliveryTests.replenishment(of: "water", in: $0)?["state"] as? String == "shipped" }
        }
        try await h.stop()
        #expect(h.subscriber.replies == [Reply.ok("n-placed", "orderPlaced"), Reply.ok("n-shipped", "orderShipped"),
                                         Reply.ok("n-shipped", "orderShipped")])
        let changes = h.subscriber.messages.compactMap(ReplenishmentDeliveryTests.event).filter { $0["event"] as? String == "orderStateChanged" }
        #expect(changes.map { $0["orderId"] as? String } == ["amzn1.dash.v2.o.tank-1", "amzn1.dash.v2.o.tank-1"])
        let report = try #require(h.subscriber.messages.last { ReplenishmentDeliveryTests.replenishment(of: "water", in: $0) != nil })
        let replenishment = try #require(ReplenishmentDeliveryTests.replenishment(of: "water", in: report))
        #expect(replenishment["totalQuantityOnHand"] as? Double == 1800)
    }

    @Test("drs_slot_id: printable text, one slot each")
    func config() throws {
        let set = ConfigMistake("", "    capacity: 1.8", "    capacity: 1.8\n    drs_slot_id: Tank").yaml
        #expect(try ConfigLoader.parse(set, fileName: "cfg.yaml").slots[0].definition.drsSlotId == "Tank")
        let none = ConfigMistake("", "    capacity: 1.8", "    capacity: 1.8").yaml
        #expect(try ConfigLoader.parse(none, fileName: "cfg.yaml").slots[0].definition.drsSlotId == nil)
        for (yaml, expected) in [
            (ConfigMistake("", "    capacity: 1.8", "    capacity: 1.8\n    drs_slot_id: \"\"").yaml,
             "cfg.yaml:14:18: slots[0].drs_slot_id: expected the slot's Dash Replenishment slot id (1 to 128 bytes of printable text), got the quoted string ''"),
            (ConfigMistake("", "    source: {driver: simulated}", """
                    source: {driver: simulated}
                    drs_slot_id: Tank
                  - id: second
                    sensor: level
                    measurement: {type: Volume, unit: LITER}
                    capacity: 1
                    source: {driver: simulated}
                    drs_slot_id: Tank
                """).yaml.replacingOccurrences(of: "    capacity: 1.8\n", with: "    capacity: 1.8\n"),
             "slots[1].drs_slot_id: duplicate drs_slot_id 'Tank' (first used by slots[0] at line 15)"),
        ] {
            let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(yaml, fileName: "cfg.yaml") }
            #expect(error?.diagnostics.map(\.description).contains { $0.contains(expected) } == true,
                    "\(error?.diagnostics ?? [])")
        }
    }
}
