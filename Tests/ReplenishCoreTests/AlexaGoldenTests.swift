import Foundation
@testable import ReplenishCore
import Testing

/// The `alexa` member of each sensor kind, pinned byte for byte: the cloud forwards it to Alexa
/// untranslated, so any change to it is a contract change. `UPDATE_GOLDEN=1 swift test` rewrites.
@Suite("golden alexa members")
struct AlexaGoldenTests {
    static let sampled = Date(timeIntervalSince1970: 1_779_000_000)     // 2026-05-17T06:40:00Z
    static let replaced = Date(timeIntervalSince1970: 1_778_990_000)

    static let cases: [(String, AlexaInventory)] = [
        ("alexa-level.json", .level(instance: "WaterTank.Level", measurement: Measurement(type: .volume, unit: .milliliter),
                                    value: 1234.5678, timeOfSample: sampled)),
        ("alexa-level-percentage.json", .level(instance: "Toner.Black", measurement: Measurement(type: .percentage),
                                               value: 42, timeOfSample: sampled)),
        ("alexa-usage.json", .consumed(namespace: "Alexa.InventoryUsageSensor", instance: "Paper.Sheets",
                                       measurement: Measurement(type: .count), usage: 37, timeOfSample: sampled)),
        ("alexa-levelusage.json", .levelUsage(instance: "WaterFilter.Cartridge",
                                              measurement: Measurement(type: .volume, unit: .liter), usage: 3.25,
                                              timeOfSample: sampled, replacedAt: nil)),
        ("alexa-levelusage-replaced.json", .levelUsage(instance: "WaterFilter.Cartridge",
                                                       measurement: Measurement(type: .volume, unit: .liter), usage: 0.5,
                                                       timeOfSample: sampled, replacedAt: replaced)),
    ]

    static func goldenURL(_ name: String) -> URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden/\(name)")
    }

    @Test("each sensor kind's alexa member matches its golden file", arguments: cases.map(\.0))
    func golden(name: String) throws {
        let member = try #require(Self.cases.first { $0.0 == name }?.1)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        let json = String(decoding: try encoder.encode(member), as: UTF8.self) + "\n"
        let url = Self.goldenURL(name)
        if ProcessInfo.processInfo.environment["UPDATE_GOLDEN"] == "1" {
            try json.write(to: url, atomically: true, encoding: .utf8)
        }
        let golden = try String(contentsOf: url, encoding: .utf8)
        #expect(json == golden)
    }

    @Test("a replacement shows in the next report's alexa member only")
    func replacedOnce() {
        let definition = SlotDefinition(id: "filter", sensor: .levelUsage, measurement: Measurement(type: .volume, unit: .liter),
                                        capacity: 50)
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
