import Foundation
@testable import ReplenishCore
import Testing
import ReplenishTestSupport

/// The book's stored form (`DeviceBook.decode` / `encoded…`), without SQLite: what the daemon
/// writes is what it and `replenishd status` read back.
@Suite("device book codec")
struct DeviceBookTests {
    static let water = Fixture.slot(.level, capacity: 1800, id: "water")
    static let device = ReplenishmentSettings(mode: .device, leadTimeDays: 4)
    static let cloud = ReplenishmentSettings(mode: .cloud)

    /// Water used 300 mL a day for three days, a device-mode policy, an open day and one answered
    /// command.
    static func sample() -> DeviceBook {
        var book = DeviceBook()
        var ledger = SlotLedger()
        for day in 0...3 {
            _ = ledger.apply(Reading(slot: "water", at: Fixture.noon.addingTimeInterval(Double(day) * 86_400),
                                     observation: .level(1800 - Double(day) * 300)),
                             definition: water, zone: Fixture.utc)
        }
        book.ledgers["water"] = ledger
        book.policies["water"] = ReplenishmentPolicy(settings: device)
        var ledgers = book.ledgers, policies = book.policies
        _ = book.journal.answer(name: "reportNow", payload: Array(#"{"correlationId": "c-1"}"#.utf8), retained: false,
                                slots: [water], policies: &policies, ledgers: &ledgers, now: Fixture.noon)
        return book
    }

    static func stored(_ book: DeviceBook) throws -> (slots: [String: [UInt8]], values: [String: [UInt8]]) {
        let values = Dictionary(uniqueKeysWithValues: try book.encodedValues().map { ($0.key, $0.blob) })
        let slots = Dictionary(uniqueKeysWithValues: try book.encodedLedgers(at: Fixture.noon).map { ($0.id, $0.blob) })
        return (slots, values)
    }

    @Test("every part comes back as written, under the keys status reads")
    func roundTrip() throws {
        let book = Self.sample()
        let stored = try Self.stored(book)
        #expect(Set(stored.values.keys) == ["day.accounting", "commands.journal", "policy.water"])
        #expect(Set(stored.slots.keys) == ["water"])
        let back = DeviceBook.decode(slots: [("water", Self.device)], slotStates: stored.slots, values: stored.values)
        #expect(back.unreadable.isEmpty)
        #expect(back.book == book)
    }

    /// (what is stored, the configured slots, what the book holds, which parts are unreadable)
    static let cases: [(name: String, damage: [String: String], slots: [String], expectUnreadable: [String])] = [
        ("nothing stored: every configured slot starts empty", ["*": ""], ["water", "pods"], []),
        ("a damaged ledger starts afresh, the rest is kept", ["slot:water": "{nope"], ["water"], ["slot water"]),
        ("a damaged journal is named, the ledgers are kept", ["commands.journal": "[1,2"], ["water"], ["commands.journal"]),
        ("a damaged policy falls back to the config's settings", ["policy.water": "7"], ["water"], ["policy.water"]),
        ("a slot no longer configured is left out", [:], ["pods"], []),
    ]

    @Test("damaged or missing parts", arguments: cases.indices)
    func damaged(index: Int) throws {
        let (_, damage, slots, expectUnreadable) = Self.cases[index]
        var stored = try Self.stored(Self.sample())
        if damage["*"] != nil { stored = ([:], [:]) }
        for (key, text) in damage where key != "*" {
            if key.hasPrefix("slot:") { stored.slots[String(key.dropFirst(5))] = Array(text.utf8) }
            else { stored.values[key] = Array(text.utf8) }
        }
        let (book, unreadable) = DeviceBook.decode(slots: slots.map { ($0, Self.cloud) }, slotStates: stored.slots,
                                                   values: stored.values)
        #expect(unreadable.map(\.key) == expectUnreadable)
        #expect(Set(book.ledgers.keys) == Set(slots))
        #expect(Set(book.policies.keys) == Set(slots))
        for id in slots {
            #expect(book.policies[id]?.settings == Self.cloud, "the config's settings win over stored ones")
        }
        if damage["slot:water"] != nil || damage["*"] != nil {
            #expect(book.ledgers["water"].map { $0 == SlotLedger() } ?? true)
        } else if slots.contains("water") {
            #expect(book.ledgers["water"] == Self.sample().ledgers["water"])
        }
        if damage["commands.journal"] != nil { #expect(book.journal == CommandJournal()) }
    }

    @Test("a report being committed is written as reported; the book itself is not changed")
    func reportedAsCommitted() throws {
        let book = Self.sample()
        let consumed = try #require(book.ledgers["water"]).consumedTotal
        #expect(consumed > 0)
        let blob = try #require(try book.encodedLedgers(reported: ["water": consumed], at: Fixture.noon).first?.blob)
        let written = try JSONDecoder().decode(SlotLedger.self, from: Data(blob))
        #expect(written.consumedSinceLastReport == 0)
        #expect(book.ledgers["water"]?.consumedSinceLastReport == consumed)
    }
}
