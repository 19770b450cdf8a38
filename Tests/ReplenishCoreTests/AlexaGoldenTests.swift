import Foundation
@testable import ReplenishCore
import Testing

/// The `alexa` member of each sensor kind, pinned byte for byte: the cloud forwards its messages
/// to Alexa untranslated, so any change to it is a contract change. `UPDATE_GOLDEN=1 swift test` rewrites.
@Suite("golden alexa members")
struct AlexaGoldenTests {
    static let sampled = Date(timeIntervalSince1970: 1_779_000_000)     // 2026-05-17T06:40:00Z
    static let built = sampled.addingTimeInterval(90)
    static let replaced = Date(timeIntervalSince1970: 1_778_990_000)
    static let water = AlexaLevelProperty(instance: "WaterTank.Level", measurement: Measurement(type: .volume, unit: .milliliter),
                                          value: 1234.5678, timeOfSample: sampled, now: built)
    static let beans = AlexaLevelProperty(instance: "BeanHopper.Level", measurement: Measurement(type: .weight, unit: .gram),
                                          value: 310, timeOfSample: sampled.addingTimeInterval(-30), now: built)
    static let liter = Measurement(type: .volume, unit: .liter)

    static let cases: [(String, AlexaSlotMessages)] = [
        ("alexa-level.json", messages([.changeReport(water)], context: [beans])),
        ("alexa-level-percentage.json", messages([.changeReport(AlexaLevelProperty(
            instance: "Toner.Black", measurement: Measurement(type: .percentage), value: 42, timeOfSample: sampled, now: sampled))])),
        ("alexa-usage.json", messages([.consumed(namespace: "Alexa.InventoryUsageSensor", instance: "Paper.Sheets",
                                                 measurement: Measurement(type: .count), usage: 37, timeOfSample: sampled)])),
        ("alexa-levelusage.json", messages([.consumed(namespace: "Alexa.InventoryLevelUsageSensor", instance: "WaterFilter.Cartridge",
                                                      measurement: liter, usage: 3.25, timeOfSample: sampled)])),
        ("alexa-levelusage-replaced.json", messages([
            .consumed(namespace: "Alexa.InventoryLevelUsageSensor", instance: "WaterFilter.Cartridge", measurement: liter,
                      usage: 0.5, timeOfSample: replaced),
            .replaced(instance: "WaterFilter.Cartridge", measurement: liter, level: 50, timeOfSample: replaced),
            .consumed(namespace: "Alexa.InventoryLevelUsageSensor", instance: "WaterFilter.Cartridge", measurement: liter,
                      usage: 1.75, timeOfSample: sampled),
        ])),
        ("alexa-nothing.json", messages([])),
    ]

    static func messages(_ list: [AlexaMessage], context: [AlexaLevelProperty] = []) -> AlexaSlotMessages {
        var messages = AlexaSlotMessages(messages: list, endpointId: "cm-000123")
        messages.context = context
        messages.reportMessageId = "cm-000123-41"
        return messages
    }

    static func goldenURL(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    }

    /// The member as a report encodes it.
    struct Member: Encodable {
        var messages: AlexaSlotMessages
        func encode(to encoder: Encoder) throws { try messages.encode(to: encoder, slot: "water") }
    }

    @Test("each sensor kind's alexa member matches its golden file", arguments: cases.map(\.0))
    func golden(name: String) throws {
        let member = try #require(Self.cases.first { $0.0 == name }?.1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(Member(messages: member)), as: UTF8.self) + "\n"
        let url = Self.goldenURL(name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try json.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(json == golden)
    }

    @Test("messageIds are version 5 UUIDs of the report's messageId, slot and position, as Python's uuid5 computes them")
    func messageIds() throws {
        #expect(SHA1.digest(Array("abc".utf8)).map { String(format: "%02x", $0) }.joined()
            == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.digest(Array(repeating: UInt8(ascii: "a"), count: 1000)).map { String(format: "%02x", $0) }.joined()
            == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
        let dns = try #require(NameBasedUUID.bytes(of: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
        #expect(NameBasedUUID.v5(namespace: dns, name: "python.org") == "886313e1-3b8a-5372-9b90-0c9aee199e5d")
        #expect(NameBasedUUID.v5(namespace: NameBasedUUID.alexaNamespace, name: "cm-000123-41/water/0")
            == "ee9a31a5-221a-57c0-ab95-2505258a4537")
        let golden = try String(contentsOf: Self.goldenURL("alexa-levelusage-replaced.json"), encoding: .utf8)
        #expect(golden.contains("ee9a31a5-221a-57c0-ab95-2505258a4537"))
        #expect(golden.contains("3f55066d-d6f5-5df8-a283-8042ab63ceeb"))
    }

    @Test("a replacement shows in the next report's alexa member only")
    func replacedOnce() {
        let definition = SlotDefinition(id: "filter", sensor: .levelUsage, measurement: Self.liter, capacity: 50)
        var ledger = SlotLedger()
        let day = DayKey(year: 2026, month: 5, day: 17)
        let t0 = Self.sampled
        _ = ledger.apply(Reading(slot: "filter", at: t0, observation: .consumed(2)), definition: definition, day: day)
        ledger.markReported(total: ledger.consumedTotal, at: t0)
        #expect(ledger.refilledSinceLastReport == nil)
        let swap = t0.addingTimeInterval(600)
        _ = ledger.apply(Reading(slot: "filter", at: swap, observation: .replaced(nil)), definition: definition, day: day)
        #expect(ledger.refilledSinceLastReport == swap)
        ledger.markReported(total: ledger.consumedTotal, at: swap.addingTimeInterval(600))
        #expect(ledger.refilledSinceLastReport == nil)
    }
}
