import Foundation
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

/// Decodes a payload the way the cloud would: plain JSON, no Swift types.
func jsonObject(_ bytes: [UInt8]) throws -> [String: Any] {
    try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
}

@Suite("The MQTT contract: status report and event JSON")
struct WireJSONTests {
    static let headerKeys: Set<String> = ["schema", "messageId", "seq", "deviceId", "generatedAt", "clock",
                                          "agentVersion", "configHash"]
    static let slotKeys: Set<String> = [
        "slot", "sensor", "measurement", "remainingQuantityInUnit", "originalQuantityInUnit",
        "consumedSinceLastReport", "consumedTotal", "averageDailyConsumption", "lastUseDate",
        "expectedReplenishmentDate", "totalQuantityOnHand", "health", "replenishment", "alexa",
    ]

    let zone = Fixture.berlin
    /// 2026-05-12 07:00:00 UTC (09:00 in Berlin).
    let now = Fixture.utc(2026, 5, 12, 7)

    func header(_ schema: String = StatusReport.schema, seq: UInt64 = 41) -> MessageHeader {
        MessageHeader(schema: schema, deviceId: "cm-0042", seq: seq, generatedAt: now, clock: .synchronized,
                      agentVersion: "0.1.0", configHash: "sha256:abc")
    }

    /// A slot with ten days of history, last used 2026-05-11 18:30:00 UTC.
    func status(_ definition: SlotDefinition, health: SlotHealth = .ok) -> SlotStatus {
        var h = LedgerHarness(definition)
        let start = Fixture.utc(2026, 5, 1, 8)
        if definition.sensor == .level { h.apply(.level(1000), at: start) }
        for d in 1...10 {
            let at = Fixture.utc(2026, 5, 1 + d, 18, 30)
            h.apply(definition.sensor == .level ? .level(1000 - Double(d) * 50.1) : .consumed(50.1), at: at)
            if d == 9 { h.ledger.markReported(total: h.ledger.consumedTotal) }
        }
        return SlotStatus(definition: definition, ledger: h.ledger, health: health, now: now, zone: zone)
    }

    func report(_ slots: [SlotStatus]) throws -> [String: Any] {
        try jsonObject(StatusReport(header: header(), reason: .daily, slots: slots).json())
    }

    @Test("the status report has exactly the contract's top-level fields and header values")
    func topLevel() throws {
        let json = try report([status(Fixture.slot(.level))])
        #expect(Set(json.keys) == Self.headerKeys.union(["reason", "slots"]))
        #expect(json["schema"] as? String == "replenish.status/1")
        #expect(json["messageId"] as? String == "cm-0042-41")
        #expect((json["seq"] as? NSNumber)?.int64Value == 41)
        #expect(json["deviceId"] as? String == "cm-0042")
        #expect(json["generatedAt"] as? String == "2026-05-12T07:00:00Z")
        #expect(json["clock"] as? String == "synchronized")
        #expect(json["agentVersion"] as? String == "0.1.0")
        #expect(json["configHash"] as? String == "sha256:abc")
        #expect(json["reason"] as? String == "daily")
        #expect((json["slots"] as? [Any])?.count == 1)
    }

    @Test("an unsynchronized clock is said so", arguments: [ClockStatus.synchronized, .unsynchronized])
    func clockStatus(_ clock: ClockStatus) throws {
        var h = header()
        h.clock = clock
        let json = try jsonObject(StatusReport(header: h, reason: .startup, slots: []).json())
        #expect(json["clock"] as? String == clock.rawValue)
        #expect(json["reason"] as? String == "startup")
    }

    @Test("every slot has exactly the contract's fields, present even when null", arguments: SensorKind.allCases)
    func slotKeys(_ sensor: SensorKind) throws {
        let json = try report([status(Fixture.slot(sensor)), SlotStatus(definition: Fixture.slot(sensor), ledger: SlotLedger(),
                                                                   health: .fault, now: now, zone: zone)])
        let slots = try #require(json["slots"] as? [[String: Any]])
        for slot in slots { #expect(Set(slot.keys) == Self.slotKeys) }
        #expect(slots[1]["health"] as? String == "fault")
        #expect(slots[1]["averageDailyConsumption"] is NSNull)
        #expect(slots[1]["lastUseDate"] is NSNull)
        #expect(slots[1]["expectedReplenishmentDate"] is NSNull)
        #expect(slots[1]["totalQuantityOnHand"] is NSNull)
    }

    @Test("slot values: names, quantities rounded to 3 decimals, UTC timestamps")
    func slotValues() throws {
        let json = try report([status(Fixture.slot(.level, id: "water-tank"))])
        let slot = try #require((json["slots"] as? [[String: Any]])?.first)
        #expect(slot["slot"] as? String == "water-tank")
        #expect(slot["sensor"] as? String == "level")
        #expect(slot["health"] as? String == "ok")
        #expect(slot["remainingQuantityInUnit"] as? Double == 499)
        #expect(slot["originalQuantityInUnit"] as? Double == 1000)
        #expect(slot["consumedSinceLastReport"] as? Double == 50.1)
        #expect(slot["consumedTotal"] as? Double == 501)
        #expect(slot["averageDailyConsumption"] as? Double == 50.1)
        #expect(slot["lastUseDate"] as? String == "2026-05-11T18:30:00Z")
        // 499 / 50.1 days after 2026-05-12T07:00:00Z
        let runOutText = try #require(slot["expectedReplenishmentDate"] as? String)
        let runOut = try #require(Timestamp.parse(runOutText))
        #expect(abs(runOut.timeIntervalSince(now) - 499 / 50.1 * 86_400) <= 1)
        #expect(slot["totalQuantityOnHand"] is NSNull)
    }

    @Test("quantities are rounded to three decimals on the wire", arguments: [
        (0.1 + 0.2, 0.3), (1.23456, 1.235), (2.0004, 2.0), (1e-4, 0), (3.5, 3.5),
    ])
    func rounding(_ value: Double, wire: Double) throws {
        var h = LedgerHarness(Fixture.slot(.usage))
        h.apply(.consumed(value), at: now.addingTimeInterval(-60))
        let s = SlotStatus(definition: Fixture.slot(.usage), ledger: h.ledger, health: .ok, now: now, zone: zone)
        let bytes = try StatusReport(header: header(), reason: .daily, slots: [s]).json()
        let slot = try #require((try jsonObject(bytes)["slots"] as? [[String: Any]])?.first)
        #expect(slot["consumedTotal"] as? Double == wire)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("0000000"))
    }

    @Test("timestamps are ISO 8601 in UTC with Z, whatever the zone", arguments: [
        (Fixture.utc(2026, 3, 29, 1, 0, 0), "2026-03-29T01:00:00Z"),
        (Fixture.local(2026, 10, 25, 2, 30), "2026-10-25T00:30:00Z"),
        (Fixture.utc(1999, 12, 31, 23, 59, 59), "1999-12-31T23:59:59Z"),
    ])
    func timestamps(_ date: Date, text: String) {
        #expect(Timestamp.string(date) == text)
        #expect(Timestamp.parse(text) == date)
    }

    @Test("measurement is {type, unit}; Count and Percentage carry no unit key", arguments: [
        (Measurement(type: .volume, unit: .milliliter), "Volume", "MILLILITER"),
        (Measurement(type: .weight, unit: .gram), "Weight", "GRAM"),
        (Measurement(type: .volume, unit: .liter), "Volume", "LITER"),
        (Measurement(type: .percentage), "Percentage", nil),
        (Measurement(type: .count), "Count", nil),
    ] as [(Measurement, String, String?)])
    func measurement(_ m: Measurement, type: String, unit: String?) throws {
        let definition = Fixture.slot(.level, capacity: 1000, measurement: m)
        let json = try report([status(definition)])
        let slot = try #require((json["slots"] as? [[String: Any]])?.first)
        let measurement = try #require(slot["measurement"] as? [String: Any])
        #expect(measurement["type"] as? String == type)
        #expect(measurement["unit"] as? String == unit)
        #expect(Set(measurement.keys) == (unit == nil ? ["type"] : ["type", "unit"]))

        let value = try #require(Self.changedLevel(slot)?["value"] as? [String: Any])
        #expect(value["@type"] as? String == type)
        #expect(Set(value.keys) == (unit == nil ? ["@type", "value"] : ["@type", "value", "unit"]))
    }

    /// The level property of a slot's ChangeReport (`alexa[0]`).
    static func changedLevel(_ slot: [String: Any]) -> [String: Any]? {
        let event = ((slot["alexa"] as? [[String: Any]])?.first)?["event"] as? [String: Any]
        let change = (event?["payload"] as? [String: Any])?["change"] as? [String: Any]
        return (change?["properties"] as? [[String: Any]])?.first
    }

    @Test("a level slot's alexa member is a ChangeReport of the InventoryLevelSensor level property")
    func alexaLevel() throws {
        var water = status(Fixture.slot(.level, id: "water-tank"))
        water.alexa.endpointId = "cm-0042"
        let json = try report([water])
        let slot = try #require((json["slots"] as? [[String: Any]])?.first)
        let messages = try #require(slot["alexa"] as? [[String: Any]])
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(Set(message.keys) == ["event", "context"])
        #expect((message["context"] as? [String: Any])?["properties"] as? [Any] != nil)
        let event = try #require(message["event"] as? [String: Any])
        #expect(Set(event.keys) == ["header", "endpoint", "payload"])
        let header = try #require(event["header"] as? [String: Any])
        #expect(Set(header.keys) == ["namespace", "name", "messageId", "payloadVersion"])
        #expect(header["namespace"] as? String == "Alexa")
        #expect(header["name"] as? String == "ChangeReport")
        #expect(header["payloadVersion"] as? String == "3")
        #expect(header["messageId"] as? String
            == NameBasedUUID.v5(namespace: NameBasedUUID.alexaNamespace, name: "cm-0042-41/water-tank/0"))
        #expect(event["endpoint"] as? [String: String] == ["endpointId": "cm-0042"])
        let change = try #require((event["payload"] as? [String: Any])?["change"] as? [String: Any])
        #expect(change["cause"] as? [String: String] == ["type": "PERIODIC_POLL"])
        let alexa = try #require(Self.changedLevel(slot))
        #expect(Set(alexa.keys) == ["namespace", "instance", "name", "value", "timeOfSample", "uncertaintyInMilliseconds"])
        #expect(alexa["namespace"] as? String == "Alexa.InventoryLevelSensor")
        #expect(alexa["instance"] as? String == "WaterTank.Level")
        #expect(alexa["name"] as? String == "level")
        let value = try #require(alexa["value"] as? [String: Any])
        #expect(value["@type"] as? String == "Volume")
        #expect(value["value"] as? Double == 499)
        #expect(value["unit"] as? String == "MILLILITER")
        #expect(alexa["timeOfSample"] as? String == "2026-05-11T18:30:00Z")
        // Read 12.5 hours before the report: the value's age is its uncertainty.
        #expect((alexa["uncertaintyInMilliseconds"] as? NSNumber)?.intValue == 45_000_000)
    }

    @Test("a level slot without any reading has nothing for Alexa: an empty list")
    func alexaLevelUnknown() throws {
        let s = SlotStatus(definition: Fixture.slot(.level), ledger: SlotLedger(), health: .degraded, now: now, zone: zone)
        let slot = try #require((try report([s])["slots"] as? [[String: Any]])?.first)
        #expect((slot["alexa"] as? [Any])?.isEmpty == true)
        #expect(slot["remainingQuantityInUnit"] is NSNull)
    }

    @Test("usage and levelUsage slots carry the InventoryConsumed event with the usage since the last report",
          arguments: [(SensorKind.usage, "Alexa.InventoryUsageSensor", "CoffeePods.Usage"),
                      (SensorKind.levelUsage, "Alexa.InventoryLevelUsageSensor", "CoffeePods.LevelUsage")])
    func alexaUsage(_ sensor: SensorKind, namespace: String, instance: String) throws {
        let definition = Fixture.slot(sensor, id: "coffee_pods", measurement: Measurement(type: .count))
        let json = try report([status(definition)])
        let slot = try #require((json["slots"] as? [[String: Any]])?.first)
        let messages = try #require(slot["alexa"] as? [[String: Any]])
        #expect(messages.count == 1)
        let message = try #require(messages.first)
        #expect(Set(message.keys) == ["event"])
        let alexa = try #require(message["event"] as? [String: Any])
        #expect(Set(alexa.keys) == ["header", "endpoint", "payload"])
        let header = try #require(alexa["header"] as? [String: Any])
        #expect(header["namespace"] as? String == namespace)
        #expect(header["name"] as? String == "InventoryConsumed")
        #expect(header["instance"] as? String == instance)
        #expect(header["payloadVersion"] as? String == "3")
        #expect((header["messageId"] as? String)?.count == 36)
        let payload = try #require(alexa["payload"] as? [String: Any])
        let usage = try #require(payload["usage"] as? [String: Any])
        #expect(Set(usage.keys) == ["@type", "value"])
        #expect(usage["@type"] as? String == "Count")
        #expect(usage["value"] as? Double == 50, "a Count goes to Alexa in whole units; 0.1 waits")
        #expect(payload["timeOfSample"] as? String == "2026-05-11T18:30:00Z")
        #expect(slot["consumedSinceLastReport"] as? Double == 50.1)
        #expect(slot["remainingQuantityInUnit"] as? Double == (sensor == .usage ? nil : 499))
    }

    @Test("an explicit alexa instance wins over the derived one")
    func explicitInstance() {
        let d = SlotDefinition(id: "t", sensor: .level, measurement: Measurement(type: .percentage), capacity: 100,
                               alexaInstance: "InkSensor.Cyan")
        #expect(d.alexaInstance == "InkSensor.Cyan")
        #expect(Fixture.slot(.usage, id: "toner-black_2").alexaInstance == "TonerBlack2.Usage")
    }

    @Test("a refilled event carries header, slot, time and from/to quantities")
    func refilledEvent() throws {
        let at = Fixture.utc(2026, 5, 12, 6, 15)
        let message = EventMessage(header: header(EventMessage.schema, seq: 7),
                                   event: .ledger(.refilled(slot: "water-tank", from: 120.4444, to: 980, at: at)))
        let json = try jsonObject(message.json())
        #expect(Set(json.keys) == Self.headerKeys.union(["event", "slot", "at", "fromQuantity", "toQuantity"]))
        #expect(json["schema"] as? String == "replenish.event/1")
        #expect(json["messageId"] as? String == "cm-0042-7")
        #expect(json["event"] as? String == "refilled")
        #expect(json["slot"] as? String == "water-tank")
        #expect(json["at"] as? String == "2026-05-12T06:15:00Z")
        #expect(json["fromQuantity"] as? Double == 120.444)
        #expect(json["toQuantity"] as? Double == 980)
    }

    @Test("a replaced event carries header, slot, time and the new quantity")
    func replacedEvent() throws {
        let at = Fixture.utc(2026, 5, 12, 6, 15)
        let message = EventMessage(header: header(EventMessage.schema, seq: 8),
                                   event: .ledger(.replaced(slot: "filter", quantity: 1000, at: at)))
        let json = try jsonObject(message.json())
        #expect(Set(json.keys) == Self.headerKeys.union(["event", "slot", "at", "quantity"]))
        #expect(json["event"] as? String == "replaced")
        #expect(json["slot"] as? String == "filter")
        #expect(json["at"] as? String == "2026-05-12T06:15:00Z")
        #expect(json["quantity"] as? Double == 1000)
        #expect(json["messageId"] as? String == "cm-0042-8")
    }

    @Test("the payload is compact JSON with sorted keys and unescaped slashes")
    func encodingStyle() throws {
        let text = String(decoding: try StatusReport(header: header(), reason: .command, slots: []).json(), as: UTF8.self)
        #expect(text == #"{"agentVersion":"0.1.0","clock":"synchronized","configHash":"sha256:abc","deviceId":"cm-0042","generatedAt":"2026-05-12T07:00:00Z","messageId":"cm-0042-41","reason":"command","schema":"replenish.status/1","seq":41,"slots":[]}"#)
        #expect(String(decoding: try EventMessage(header: header(EventMessage.schema), event: .ledger(.replaced(slot: "a", quantity: 1, at: now))).json(), as: UTF8.self)
            .contains(#""schema":"replenish.event/1""#))
    }
}

@Suite("Timestamps with fractions of a second")
struct TimestampFractionTests {
    @Test("sub-second instants are written without fractions and never in the next second",
          arguments: [0.001, 0.5, 0.999, 59.9996])
    func fractions(_ offset: Double) {
        let base = Fixture.utc(2026, 5, 12, 7, 0, 0)
        let text = Timestamp.string(base.addingTimeInterval(offset))
        let whole = Timestamp.string(base.addingTimeInterval(offset.rounded(.down)))
        #expect(text == whole)
    }
}

@Suite("From ledger to wire")
struct LedgerToWireTests {
    @Test("the refilled event the ledger emits goes on the wire with its from/to levels")
    func refillToEvent() throws {
        var h = LedgerHarness(Fixture.slot(.level, hysteresis: 50, id: "water-tank"))
        h.apply(.level(210.25), at: Fixture.utc(2026, 5, 12, 6))
        let event = try #require(h.apply(.level(995.5), at: Fixture.utc(2026, 5, 12, 6, 5)).first)
        let header = MessageHeader(schema: EventMessage.schema, deviceId: "cm-1", seq: 3, generatedAt: Fixture.utc(2026, 5, 12, 6, 5),
                                   clock: .unsynchronized, agentVersion: "0.1.0", configHash: "h")
        let json = try jsonObject(EventMessage(header: header, event: .ledger(event)).json())
        #expect(json["event"] as? String == "refilled")
        #expect(json["fromQuantity"] as? Double == 210.25)
        #expect(json["toQuantity"] as? Double == 995.5)
        #expect(json["at"] as? String == "2026-05-12T06:05:00Z")
        #expect(json["clock"] as? String == "unsynchronized")
    }

    @Test("a report lists its slots in the given order")
    func slotOrder() throws {
        let now = Fixture.utc(2026, 5, 12, 7)
        let ids = ["water", "beans", "descaler"]
        let slots = ids.map {
            SlotStatus(definition: Fixture.slot(.usage, id: $0), ledger: SlotLedger(), health: .ok, now: now, zone: Fixture.berlin)
        }
        let header = MessageHeader(schema: StatusReport.schema, deviceId: "d", seq: 1, generatedAt: now,
                                   clock: .synchronized, agentVersion: "v", configHash: "h")
        let json = try jsonObject(StatusReport(header: header, reason: .periodic, slots: slots).json())
        let listed = try #require(json["slots"] as? [[String: Any]]).compactMap { $0["slot"] as? String }
        #expect(listed == ids)
        #expect(json["reason"] as? String == "periodic")
    }
}
