import Foundation
@testable import ReplenishCore
import Testing

/// The book's inputs driven by tables: observations in, events and ledger state out. No SQLite,
/// no queues, no async code.
@Suite("device book inputs")
struct DeviceBookInputTests {
    struct Step: Sendable {
        var hours: Double
        var observations: [Observation]
        var events: [String]
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var slot: SlotDefinition
        var steps: [Step]
        var remaining: Double?
        var consumed: Double = 0
        var testDescription: String { name }
    }

    static let tank = SlotDefinition(id: "tank", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
                                     capacity: 1000, lowThreshold: 200)
    static let pods = SlotDefinition(id: "pods", sensor: .usage, measurement: Measurement(type: .count, unit: nil),
                                     capacity: 50)
    static let filter = SlotDefinition(id: "filter", sensor: .levelUsage, measurement: Measurement(type: .count, unit: nil),
                                       capacity: 1)

    static func step(_ hours: Double, _ observations: [Observation], _ events: [String] = []) -> Step {
        Step(hours: hours, observations: observations, events: events)
    }

    static let cases: [Case] = [
        Case(name: "a level falling past the low threshold raises lowSupply once", slot: tank, steps: [
            step(0, [.level(900)]), step(6, [.level(500)]), step(12, [.level(150)], ["lowSupply"]), step(18, [.level(140)]),
        ], remaining: 140, consumed: 760),
        Case(name: "a refill is a ledger event, and the threshold fires again after it", slot: tank, steps: [
            step(0, [.level(300)]), step(6, [.level(150)], ["lowSupply"]), step(12, [.level(950)], ["refilled"]),
            step(18, [.level(190)], ["lowSupply"]),
        ], remaining: 190, consumed: 910),
        Case(name: "a sample without observations (a faulty sensor) changes nothing", slot: tank, steps: [
            step(0, [.level(600)]), step(6, []), step(12, []),
        ], remaining: 600),
        Case(name: "usage adds up, no remaining without a level, no events", slot: pods, steps: [
            step(0, [.consumed(1)]), step(1, [.consumed(2), .consumed(1)]),
        ], remaining: nil, consumed: 4),
        Case(name: "a replacement is a ledger event", slot: filter, steps: [
            step(0, [.replaced(1)], ["replaced"]), step(24, [.consumed(0.25)]),
        ], remaining: 0.75, consumed: 0.25),
    ]

    static func name(_ event: EventMessage.Event) -> String {
        switch event {
        case .ledger(.refilled): "refilled"
        case .ledger(.replaced): "replaced"
        case .policy(_, .lowSupply, _): "lowSupply"
        case .policy(_, .replenishRequested, _): "replenishRequested"
        default: "\(event)"
        }
    }

    @Test("observe", arguments: cases)
    func observe(_ c: Case) {
        var book = DeviceBook()
        book.ledgers[c.slot.id] = SlotLedger()
        book.policies[c.slot.id] = ReplenishmentPolicy(settings: ReplenishmentSettings(mode: .cloud))
        for (index, step) in c.steps.enumerated() {
            let at = Fixture.noon.addingTimeInterval(step.hours * 3600)
            let events = book.observe(step.observations, slot: c.slot, at: at, fallbackDay: DayKey(at, in: Fixture.utc),
                                      clock: .synchronized)
            #expect(events.map(Self.name) == step.events, "step \(index + 1)")
        }
        #expect(book.ledgers[c.slot.id]?.remaining == c.remaining)
        #expect(book.ledgers[c.slot.id]?.consumedTotal == c.consumed)
    }

    @Test("an unknown slot is ignored; a report shows every configured slot, reported once committed")
    func statusesAndReported() {
        var book = DeviceBook()
        book.ledgers["pods"] = SlotLedger()
        #expect(book.observe([.level(5)], slot: Self.tank, at: Fixture.noon, fallbackDay: DayKey(Fixture.noon, in: Fixture.utc),
                             clock: .synchronized).isEmpty)
        #expect(book.ledgers["tank"] == nil)
        _ = book.observe([.consumed(3)], slot: Self.pods, at: Fixture.noon, fallbackDay: DayKey(Fixture.noon, in: Fixture.utc),
                         clock: .synchronized)
        let statuses = book.statuses([Self.pods, Self.tank], health: ["tank": .fault], now: Fixture.noon, clock: .synchronized)
        #expect(statuses.map(\.slot) == ["pods", "tank"])
        #expect(statuses.map(\.health) == [.ok, .fault])
        #expect(book.ledgers["pods"]?.consumedSinceLastReport == 3)
        book.markReported(statuses, at: Fixture.noon)
        #expect(book.ledgers["pods"]?.consumedSinceLastReport == 0)
    }
}
