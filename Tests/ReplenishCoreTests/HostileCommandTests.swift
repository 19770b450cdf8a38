import Foundation
@testable import ReplenishCore
import Testing

/// Commands from anyone who can publish on the device's topics: none may poison the books.
@Suite("hostile commands: bounded, applied once, retained ones never run")
struct HostileCommandTests {
    static let now = Fixture.utc(2026, 12, 1, 10)
    static let water = Fixture.slot(.level, capacity: 1800, id: "water")

    /// The books of one 1800 mL level slot, as the keeper holds them.
    struct Books {
        var journal = CommandJournal()
        var policies: [String: ReplenishmentPolicy] = ["water": ReplenishmentPolicy()]
        var ledgers: [String: SlotLedger] = ["water": SlotLedger()]

        mutating func send(_ name: String, _ json: String, retained: Bool = false) -> CommandOutcome {
            journal.answer(name: name, payload: Array(json.utf8), retained: retained, slots: [HostileCommandTests.water],
                           policies: &policies, ledgers: &ledgers, now: HostileCommandTests.now)
        }

        mutating func read(level: Double, at hour: Int) -> [LedgerEvent] {
            ledgers["water"]!.apply(Reading(slot: "water", at: Fixture.utc(2026, 12, 1, hour), observation: .level(level)),
                                    definition: HostileCommandTests.water, day: DayKey(year: 2026, month: 12, day: 1))
        }

        /// The status report as it would go out: it must always encode.
        func report() throws -> [UInt8] {
            var status = SlotStatus(definition: HostileCommandTests.water, ledger: ledgers["water"]!, health: .ok,
                                    now: HostileCommandTests.now, clock: .synchronized)
            status.totalQuantityOnHand = policies["water"]!.totalQuantityOnHand
            let header = MessageHeader(schema: StatusReport.schema, deviceId: "d", seq: 1, generatedAt: HostileCommandTests.now,
                                       clock: .synchronized, agentVersion: "t", configHash: "h")
            return try StatusReport(header: header, reason: .command, slots: [status]).json()
        }
    }

    @Test("quantities beyond the bounds are rejected with the bound, and every later report still encodes", arguments: [
        (#"{"correlationId":"a","slot":"water","remainingQuantityInUnit":1e308}"#, "from 0 to 1000000000"),
        (#"{"correlationId":"a","slot":"water","totalQuantityOnHand":1.8e305}"#, "from 0 to 1000000000"),
        (#"{"correlationId":"a","slot":"water","totalQuantityOnHand":1e400}"#, "invalid JSON: number 1e400 is out of range"),
        (#"{"correlationId":"a","slot":"water","remainingQuantityInUnit":999999}"#,
         "remainingQuantityInUnit 999999 exceeds the slot's capacity (1800); expected 0 to 1800"),
        (#"{"correlationId":"a","slot":"water","totalQuantityOnHand":1800001}"#,
         "totalQuantityOnHand 1800001 exceeds the most this slot may have on hand; expected 0 to 1800000"),
    ])
    func boundedQuantities(payload: String, reason: String) throws {
        var books = Books()
        _ = books.read(level: 1000, at: 1)
        let outcome = books.send("inventoryAdjust", payload)
        #expect(outcome.reply?.error?.contains(reason) == true, "\(outcome.reply?.error ?? "accepted")")
        _ = books.read(level: 900, at: 2)
        #expect(books.ledgers["water"]!.consumedTotal == 100)
        #expect(books.policies["water"]!.totalQuantityOnHand == 0)
        #expect(try !books.report().isEmpty)
    }

    @Test("shipments cannot add up past the bound on hand")
    func shipmentsAddUp() throws {
        var books = Books()
        for i in 0..<2 {
            let outcome = books.send("orderShipped", #"{"correlationId":"s\#(i)","slot":"water","orderId":"o\#(i)","quantity":900000}"#)
            #expect(outcome.reply?.error == nil)
        }
        let third = books.send("orderShipped", #"{"correlationId":"s2","slot":"water","orderId":"o2","quantity":900000}"#)
        #expect(third.reply?.error?.contains("above the most this slot may have on hand (1800000") == true,
                "\(third.reply?.error ?? "accepted")")
        #expect(books.policies["water"]!.totalQuantityOnHand == 1_800_000)
        #expect(try !books.report().isEmpty)
    }

    @Test("an adjustment of what remains never changes consumedTotal: the next reading is the new reference")
    func adjustInventsNothing() {
        var books = Books()
        _ = books.read(level: 1000, at: 1)
        #expect(books.send("inventoryAdjust", #"{"correlationId":"a","slot":"water","remainingQuantityInUnit":1500}"#)
            .reply?.error == nil)
        #expect(books.ledgers["water"]!.remaining == 1500)
        // The sensor still reads 1000: no use of 500, and no refill either.
        #expect(books.read(level: 1000, at: 2).isEmpty)
        #expect(books.ledgers["water"]!.consumedTotal == 0)
        #expect(books.send("inventoryAdjust", #"{"correlationId":"b","slot":"water","remainingQuantityInUnit":100}"#)
            .reply?.error == nil)
        #expect(books.read(level: 1000, at: 3).isEmpty, "no refill invented either")
        _ = books.read(level: 950, at: 4)
        #expect(books.ledgers["water"]!.consumedTotal == 50)
    }

    @Test("the same command delivered twice is answered twice and applied once")
    func appliedOnce() {
        var books = Books()
        let shipped = #"{"correlationId":"c-7","slot":"water","orderId":"o-1","quantity":500}"#
        let first = books.send("orderShipped", shipped)
        // The same command with other whitespace and key order is still the same command.
        let again = books.send("orderShipped", #"{ "quantity": 500, "orderId": "o-1", "slot": "water", "correlationId": "c-7" }"#)
        #expect(first.reply == again.reply)
        #expect(first.reply?.error == nil)
        #expect(first.events.count == 1)
        #expect(again.events.isEmpty)
        #expect(books.policies["water"]!.totalQuantityOnHand == 500)
        // A rejection is remembered too: its redelivery is not applied after the state changed.
        let cancel = #"{"correlationId":"c-8","slot":"water","orderId":"o-2"}"#
        #expect(books.send("orderCancelled", cancel).reply?.error == "unknown order 'o-2'")
        _ = books.send("orderPlaced", #"{"correlationId":"c-9","slot":"water","orderId":"o-2"}"#)
        #expect(books.send("orderCancelled", cancel).reply?.error == "unknown order 'o-2'")
        #expect(books.policies["water"]!.cancellations == 0)
        // Another command under a used correlationId is refused, not applied.
        let reuse = books.send("orderShipped", #"{"correlationId":"c-7","slot":"water","orderId":"o-9","quantity":5}"#)
        #expect(reuse.reply?.error?.hasPrefix("correlationId 'c-7' was already used for another command") == true)
        #expect(books.policies["water"]!.totalQuantityOnHand == 500)
        // reportNow twice: one report.
        #expect(books.send("reportNow", #"{"correlationId":"r"}"#).buildsReport)
        #expect(!books.send("reportNow", #"{"correlationId":"r"}"#).buildsReport)
    }

    @Test("a retained command is never executed: rejected the first time per correlationId, then only logged")
    func retainedNeverRuns() {
        var books = Books()
        let shipped = #"{"correlationId":"r-1","slot":"water","orderId":"o-1","quantity":500}"#
        let first = books.send("orderShipped", shipped, retained: true)
        #expect(first.reply?.correlationId == "r-1")
        #expect(first.reply?.error?.hasPrefix("retained commands are never executed") == true)
        #expect(first.events.isEmpty)
        for _ in 0..<5 {
            let again = books.send("orderShipped", shipped, retained: true)
            #expect(again.reply == nil)
            #expect(again.isWarning)
        }
        #expect(books.policies["water"]!.totalQuantityOnHand == 0)
        // Clearing it (an empty retained message, passed on to current subscribers unretained) is no command at all.
        for retained in [true, false] {
            let cleared = books.send("orderShipped", "", retained: retained)
            #expect(cleared.reply == nil)
            #expect(!cleared.isWarning)
        }
        // A retained message without a readable correlationId cannot be answered once: only logged.
        #expect(books.send("reportNow", "garbage", retained: true).reply == nil)
        #expect(!books.send("reportNow", #"{"correlationId":"r-2"}"#, retained: true).buildsReport)
    }

    @Test("the journal is bounded and survives encoding")
    func journalBounded() throws {
        var books = Books()
        for i in 0..<(CommandJournal.capacity + 20) {
            _ = books.send("registered", #"{"correlationId":"c\#(i)"}"#)
        }
        #expect(books.journal.entries.count == CommandJournal.capacity)
        #expect(books.journal.entry(for: "c0") == nil)
        #expect(books.journal.entry(for: "c\(CommandJournal.capacity + 19)") != nil)
        let decoded = try JSONDecoder().decode(CommandJournal.self, from: JSONEncoder().encode(books.journal))
        #expect(decoded == books.journal)
    }

    @Test("impossible stored state is repaired, not carried on")
    func repairAtLoad() throws {
        let stored = #"{"remaining":1e300,"referenceLevel":1e300,"consumedTotal":1e300,"reportedTotal":5,"openConsumed":1e300,"daily":[{"day":"2026-11-30","consumed":1e300}],"openDay":"2026-12-01"}"#
        var ledger = try JSONDecoder().decode(SlotLedger.self, from: Data(stored.utf8))
        let repaired = ledger.repair(capacity: 1800)
        #expect(repaired.count == 5, "\(repaired)")
        #expect(ledger.remaining == nil && ledger.referenceLevel == nil)
        #expect(ledger.consumedTotal == 5)
        #expect(ledger.openConsumed == 0)
        #expect(ledger.repair(capacity: 1800).isEmpty, "a repaired ledger is sound")

        var policy = ReplenishmentPolicy()
        _ = policy.apply(.orderShipped(slot: "water", orderId: "o", quantity: 1e9, estimatedDelivery: nil),
                         capacity: 1e9, now: Self.now)
        #expect(policy.repair(capacity: 1800) == ["totalQuantityOnHand 1000000000.0 outside 0...1800000.0: set to 1800000.0",
                                                   "quantity 1000000000.0 of order o outside 0...1800000.0: forgotten"])
        #expect(policy.totalQuantityOnHand == 1_800_000)
    }

    @Test("sensor nonsense never reaches the ledger", arguments: [
        (Observation.level(1e308), true), (.level(.infinity), true), (.level(.nan), true), (.level(3601), true),
        (.level(-1801), true), (.consumed(-1), true), (.consumed(2e9), true), (.replaced(1e12), true),
        (.level(1900), false), (.level(-5), false), (.consumed(1e6), false), (.replaced(nil), false),
    ])
    func sensorBounds(observation: Observation, refused: Bool) {
        #expect((Self.water.implausibility(of: observation) != nil) == refused)
        var ledger = SlotLedger()
        _ = ledger.apply(Reading(slot: "water", at: Self.now, observation: .level(1000)), definition: Self.water,
                         day: DayKey(year: 2026, month: 12, day: 1))
        _ = ledger.apply(Reading(slot: "water", at: Self.now, observation: observation), definition: Self.water,
                         day: DayKey(year: 2026, month: 12, day: 1))
        if refused { #expect(ledger.remaining == 1000 && ledger.consumedTotal == 0) }
    }

    @Test("a trickle of sensor noise forecasts no run-out rather than one in the year 506713")
    func noAbsurdRunOut() {
        var ledger = SlotLedger()
        let definition = Self.water
        var level = 1000.0
        for d in 0..<4 {
            let day = DayKey(year: 2026, month: 11, day: 20 + d)
            if d > 0 { ledger.apply(.closed(days: [DayKey(year: 2026, month: 11, day: 19 + d)], whole: true, newDay: day)) }
            level -= 1e-9
            _ = ledger.apply(Reading(slot: "water", at: Fixture.utc(2026, 11, 20 + d, 12), observation: .level(level)),
                             definition: definition, day: day)
        }
        #expect(ledger.averageDailyConsumption(window: 14)! > 0)
        #expect(ledger.expectedRunOut(asOf: Fixture.utc(2026, 11, 24), window: 14, clock: .synchronized) == nil)
    }
}
