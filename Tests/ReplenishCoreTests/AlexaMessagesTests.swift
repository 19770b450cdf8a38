import Foundation
@testable import ReplenishCore
import Testing

/// When a slot has something to tell Alexa, driven through the book as the daemon drives it:
/// observations in, a report's statuses out, the report committed (`markReported`).
@Suite("alexa messages")
struct AlexaMessagesTests {
    static let tank = SlotDefinition(id: "tank", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
                                     capacity: 1000)   // step: 1 % = 10 ml
    static let hopper = SlotDefinition(id: "hopper", sensor: .level, measurement: Measurement(type: .weight, unit: .gram),
                                       capacity: 500, alexaLevelStep: 0)
    static let pods = SlotDefinition(id: "pods", sensor: .usage, measurement: Measurement(type: .count), capacity: 50)
    static let filter = SlotDefinition(id: "filter", sensor: .levelUsage, measurement: Measurement(type: .volume, unit: .liter),
                                       capacity: 50)

    struct Device {
        var book = DeviceBook()
        var slots: [SlotDefinition]
        var now = Fixture.noon

        init(_ slots: [SlotDefinition]) {
            self.slots = slots
            for slot in slots { book.ledgers[slot.id] = SlotLedger() }
        }

        mutating func observe(_ slot: SlotDefinition, _ observations: [Observation]) {
            now = now.addingTimeInterval(600)
            _ = book.observe(observations, slot: slot, at: now, fallbackDay: DayKey(now, in: Fixture.utc), clock: .synchronized)
        }

        /// A report, committed: each slot's messages by slot id.
        mutating func report(clock: ClockStatus = .synchronized) -> [String: AlexaSlotMessages] {
            now = now.addingTimeInterval(60)
            let statuses = book.statuses(slots, health: [:], now: now, clock: clock, alexaEndpointId: "cm-000123")
            book.markReported(statuses, at: now)
            return Dictionary(uniqueKeysWithValues: statuses.map { ($0.slot, $0.alexa) })
        }
    }

    static func kinds(_ messages: AlexaSlotMessages?) -> [String] {
        (messages?.messages ?? []).map {
            switch $0 {
            case let .changeReport(level): "ChangeReport \(level.value)"
            case let .consumed(_, _, _, usage, _): "InventoryConsumed \(usage)"
            case let .replaced(_, _, level, _): "InventoryReplaced \(level)"
            }
        }
    }

    @Test("a level goes to Alexa at its first reading, then only when it moved by more than the step since the last one sent")
    func levelStep() {
        var device = Device([Self.tank])
        #expect(Self.kinds(device.report()["tank"]) == [], "no reading yet")
        device.observe(Self.tank, [.level(900)])
        #expect(Self.kinds(device.report()["tank"]) == ["ChangeReport 900.0"])
        #expect(Self.kinds(device.report()["tank"]) == [], "unchanged")
        device.observe(Self.tank, [.level(894)])
        #expect(Self.kinds(device.report()["tank"]) == [], "6 ml is within the 10 ml step")
        device.observe(Self.tank, [.level(889)])
        #expect(Self.kinds(device.report()["tank"]) == ["ChangeReport 889.0"], "11 ml from the last one sent, not from the last reading")
        device.observe(Self.tank, [.level(995)])
        #expect(Self.kinds(device.report()["tank"]) == ["ChangeReport 995.0"], "a refill is a change too")
    }

    @Test("the level Alexa was told survives the ledger's storage; older ledgers have none")
    func levelSentStored() throws {
        var device = Device([Self.tank])
        device.observe(Self.tank, [.level(700)])
        _ = device.report()
        let ledger = try #require(device.book.ledgers["tank"])
        let stored = try JSONDecoder().decode(SlotLedger.self, from: JSONEncoder().encode(ledger))
        #expect(stored.alexaLevelSent == 700)
        var old = try JSONSerialization.jsonObject(with: JSONEncoder().encode(ledger)) as! [String: Any]
        old["alexaLevelSent"] = nil
        let older = try JSONDecoder().decode(SlotLedger.self, from: JSONSerialization.data(withJSONObject: old))
        #expect(older.alexaLevelSent == nil)
    }

    @Test("a ChangeReport's context holds the other level slots' levels; the endpoint is the configured one")
    func context() throws {
        var device = Device([Self.tank, Self.hopper, Self.pods])
        device.observe(Self.tank, [.level(640)])
        device.observe(Self.hopper, [.level(210)])
        let messages = device.report()
        let tank = try #require(messages["tank"])
        #expect(tank.endpointId == "cm-000123")
        #expect(tank.context.map(\.instance) == ["Hopper.Level"])
        #expect(tank.context.first?.value == 210)
        #expect(messages["hopper"]?.context.map(\.instance) == ["Tank.Level"])
        // The tank's reading is 660 s old when the report is built: that is its uncertainty.
        #expect(tank.reportedLevel?.uncertaintyInMilliseconds == 660_000)
        #expect(messages["pods"]?.messages == [], "nothing used")
    }

    @Test("usage: a consumption event only when something was used since the last report")
    func usageOnlyWhenUsed() {
        var device = Device([Self.pods])
        #expect(Self.kinds(device.report()["pods"]) == [])
        device.observe(Self.pods, [.consumed(2)])
        device.observe(Self.pods, [.consumed(1)])
        #expect(Self.kinds(device.report()["pods"]) == ["InventoryConsumed 3.0"])
        #expect(Self.kinds(device.report()["pods"]) == [])
    }

    @Test("a Count goes to Alexa in whole units: the fraction waits for the next event, nothing is lost or told twice")
    func wholeCounts() {
        var device = Device([Self.pods])
        device.observe(Self.pods, [.consumed(0.85)])
        #expect(Self.kinds(device.report()["pods"]) == [], "less than one pod")
        device.observe(Self.pods, [.consumed(0.3)])
        #expect(Self.kinds(device.report()["pods"]) == ["InventoryConsumed 1.0"])
        device.observe(Self.pods, [.consumed(1.9)])
        #expect(Self.kinds(device.report()["pods"]) == ["InventoryConsumed 2.0"], "0.15 + 1.9")
        #expect(abs((device.book.ledgers["pods"]?.consumedSinceAlexaTold ?? 0) - 0.05) < 1e-9)
    }

    @Test("a Percentage level over 100 (a sensor reading a little over full) goes to Alexa as 100; a Count level whole")
    func levelBounds() {
        let toner = SlotDefinition(id: "toner", sensor: .level, measurement: Measurement(type: .percentage), capacity: 100)
        let sheets = SlotDefinition(id: "sheets", sensor: .level, measurement: Measurement(type: .count), capacity: 500)
        var device = Device([toner, sheets])
        device.observe(toner, [.level(103.5)])
        device.observe(sheets, [.level(249.6)])
        let told = device.report()
        #expect(Self.kinds(told["toner"]) == ["ChangeReport 100.0"])
        #expect(Self.kinds(told["sheets"]) == ["ChangeReport 250.0"])
    }

    @Test("levelUsage: use before a replacement, the replacement with the new part's level, then the use after it")
    func replacementSplitsUse() {
        var device = Device([Self.filter])
        device.observe(Self.filter, [.replaced(nil)])
        #expect(Self.kinds(device.report()["filter"]) == ["InventoryReplaced 50.0"])
        device.observe(Self.filter, [.consumed(2)])
        #expect(Self.kinds(device.report()["filter"]) == ["InventoryConsumed 2.0"])
        device.observe(Self.filter, [.consumed(0.5)])
        device.observe(Self.filter, [.replaced(nil)])
        device.observe(Self.filter, [.consumed(1.5)])
        #expect(Self.kinds(device.report()["filter"]) == ["InventoryConsumed 0.5", "InventoryReplaced 50.0", "InventoryConsumed 1.5"])
        #expect(Self.kinds(device.report()["filter"]) == [])
    }

    @Test("on untrusted time nothing goes to Alexa; the first report on trusted time tells what was used meanwhile")
    func heldForClock() {
        var device = Device([Self.pods, Self.tank, Self.filter])
        device.observe(Self.pods, [.consumed(2)])
        device.observe(Self.tank, [.level(700)])
        device.observe(Self.filter, [.replaced(nil)])
        let held = device.report(clock: .unsynchronized)
        #expect(held.values.allSatisfy { $0.messages.isEmpty && $0.heldForClock })
        device.observe(Self.pods, [.consumed(1)])
        let told = device.report()
        #expect(Self.kinds(told["pods"]) == ["InventoryConsumed 3.0"])
        #expect(Self.kinds(told["tank"]) == ["ChangeReport 700.0"])
        #expect(Self.kinds(told["filter"]) == ["InventoryReplaced 50.0"])
        #expect(Self.kinds(device.report()["pods"]) == [])
    }

    @Test("each message's id is derived from the report's messageId, so a replay keeps it and another report does not")
    func idsFollowTheReport() throws {
        var device = Device([Self.tank])
        device.observe(Self.tank, [.level(500)])
        let statuses = device.book.statuses(device.slots, health: [:], now: device.now, clock: .synchronized,
                                            alexaEndpointId: "cm-000123")
        func json(seq: UInt64) throws -> String {
            let header = MessageHeader(schema: StatusReport.schema, deviceId: "cm-000123", seq: seq, generatedAt: device.now,
                                       clock: .synchronized, agentVersion: "t", configHash: "h")
            return String(decoding: try StatusReport(header: header, reason: .periodic, slots: statuses).json(), as: UTF8.self)
        }
        let id41 = NameBasedUUID.v5(namespace: NameBasedUUID.alexaNamespace, name: "cm-000123-41/tank/0")
        #expect(try json(seq: 41).contains("\"messageId\":\"\(id41)\""))
        #expect(try json(seq: 41) == json(seq: 41))
        #expect(try !json(seq: 42).contains(id41))
    }
}
