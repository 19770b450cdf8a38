import Foundation
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

@Suite("Slot ledger: consumption per sensor kind")
struct SlotLedgerTests {
    struct KindCase: CustomTestStringConvertible, Sendable {
        var sensor: SensorKind
        var observations: [Observation]
        var consumed: Double
        var remaining: Double?
        var testDescription: String { "\(sensor): \(observations) → consumed \(consumed), remaining \(String(describing: remaining))" }
    }

    static let kindCases: [KindCase] = [
        // Level: drops from the first reading count; what is left is the last level.
        KindCase(sensor: .level, observations: [.level(1000), .level(900), .level(750)], consumed: 250, remaining: 750),
        KindCase(sensor: .level, observations: [.level(600)], consumed: 0, remaining: 600),
        KindCase(sensor: .level, observations: [.level(100), .level(-5)], consumed: 100, remaining: 0),
        // Usage: every `.consumed` accumulates; the stock is elsewhere, so nothing is known to remain.
        KindCase(sensor: .usage, observations: [.consumed(12), .consumed(30), .consumed(8)], consumed: 50, remaining: nil),
        KindCase(sensor: .usage, observations: [.consumed(0), .consumed(-3)], consumed: 0, remaining: nil),
        // A new pack in a usage slot starts its count since the replacement, not a level.
        KindCase(sensor: .usage, observations: [.consumed(12), .replaced(nil), .consumed(8)], consumed: 20, remaining: nil),
        // LevelUsage: uses come off the capacity; a replacement starts over.
        KindCase(sensor: .levelUsage, observations: [.consumed(100), .consumed(50)], consumed: 150, remaining: 850),
        KindCase(sensor: .levelUsage, observations: [.consumed(400), .replaced(nil), .consumed(10)], consumed: 410, remaining: 990),
        KindCase(sensor: .levelUsage, observations: [.consumed(400), .replaced(500), .consumed(10)], consumed: 410, remaining: 490),
        KindCase(sensor: .levelUsage, observations: [.consumed(700), .consumed(700)], consumed: 1400, remaining: 0),
    ]

    @Test("consumption and remaining quantity follow the sensor kind", arguments: kindCases)
    func consumptionPerKind(_ c: KindCase) {
        var h = LedgerHarness(Fixture.slot(c.sensor))
        h.apply(c.observations)
        #expect(abs(h.ledger.consumedTotal - c.consumed) < 1e-9)
        #expect(h.ledger.remaining == c.remaining)
    }

    @Test("inventoryAdjust of what remains: a level for level slots; for a usage slot the use since the last replacement")
    func adjustRemaining() {
        var level = LedgerHarness(Fixture.slot(.level))
        level.apply([.level(900)])
        level.ledger.adjustRemaining(to: 400, definition: level.definition)
        #expect(level.ledger.remaining == 400)

        var usage = LedgerHarness(Fixture.slot(.usage))
        usage.apply([.consumed(30)])
        usage.ledger.adjustRemaining(to: 400, definition: usage.definition)
        #expect(usage.ledger.remaining == nil)
        #expect(usage.ledger.remainingSinceReplacement(capacity: 1000) == 400, "known from the adjustment on")
        usage.apply(.consumed(50), at: Fixture.noon.addingTimeInterval(3600))
        #expect(usage.ledger.remainingSinceReplacement(capacity: 1000) == 350)
        #expect(usage.ledger.consumedTotal == 80, "an adjustment is no use")
    }

    @Test("a replaced levelUsage part emits one replaced event with the new quantity")
    func replacedEvent() {
        var h = LedgerHarness(Fixture.slot(.levelUsage))
        let at = Fixture.noon
        h.apply(.consumed(300), at: at)
        let events = h.apply(.replaced(nil), at: at.addingTimeInterval(60))
        #expect(events == [.replaced(slot: "water-levelUsage", quantity: 1000, at: at.addingTimeInterval(60))])
        #expect(h.ledger.refillCount == 1)
        #expect(h.ledger.lastRefillDate == at.addingTimeInterval(60))
        #expect(h.ledger.consumedTotal == 300)
    }

    @Test("consumedSinceLastReport restarts after markReported; consumedTotal keeps counting",
          arguments: SensorKind.allCases)
    func markReported(_ sensor: SensorKind) {
        var h = LedgerHarness(Fixture.slot(sensor))
        let uses: [Observation] = sensor == .level ? [.level(1000), .level(900), .level(850)] : [.consumed(100), .consumed(50)]
        h.apply(uses)
        #expect(h.ledger.consumedSinceLastReport == 150)
        h.ledger.markReported(total: h.ledger.consumedTotal)
        #expect(h.ledger.consumedSinceLastReport == 0)
        #expect(h.ledger.consumedTotal == 150)

        h.apply(sensor == .level ? .level(820) : .consumed(30), at: Fixture.noon.addingTimeInterval(3600))
        #expect(h.ledger.consumedSinceLastReport == 30)
        #expect(h.ledger.consumedTotal == 180)
    }

    @Test("markReported with a stale or future total never moves the report mark the wrong way")
    func markReportedBounds() {
        var h = LedgerHarness(Fixture.slot(.usage))
        h.apply([.consumed(100)])
        h.ledger.markReported(total: 100)
        h.apply(.consumed(20), at: Fixture.noon.addingTimeInterval(600))
        h.ledger.markReported(total: 40)          // an older report acknowledged late
        #expect(h.ledger.consumedSinceLastReport == 20)
        h.ledger.markReported(total: 10_000)      // more than was ever consumed
        #expect(h.ledger.consumedSinceLastReport == 0)
        #expect(h.ledger.consumedTotal == 120)
    }

    @Test("lastUseDate is the time of the last consumption, not of the last reading", arguments: SensorKind.allCases)
    func lastUseDate(_ sensor: SensorKind) {
        var h = LedgerHarness(Fixture.slot(sensor))
        let t0 = Fixture.noon
        let used = t0.addingTimeInterval(600)
        let later = t0.addingTimeInterval(7200)
        switch sensor {
        case .level:
            h.apply(.level(800), at: t0)
            #expect(h.ledger.lastUseDate == nil)
            h.apply(.level(700), at: used)
            h.apply(.level(700), at: later)       // unchanged level: a reading, not a use
            h.apply(.level(720), at: later)       // noise upward: not a use either
        case .usage, .levelUsage:
            h.apply(.consumed(5), at: used)
            h.apply(.consumed(0), at: later)
        }
        #expect(h.ledger.lastUseDate == used)
        #expect(h.ledger.lastReadingDate == later)
    }

    @Test("consumedTotal never decreases over a random sequence of readings, refills and noise",
          arguments: SensorKind.allCases, [1, 2, 3, 42, 2026] as [UInt64])
    func consumedTotalIsAMeter(_ sensor: SensorKind, seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        let definition = Fixture.slot(sensor, capacity: 1000, hysteresis: 20)
        var h = LedgerHarness(definition)
        var level = 1000.0
        var t = Fixture.noon
        var previous = 0.0
        for step in 0..<2_000 {
            let observation: Observation
            switch Int.random(in: 0..<10, using: &rng) {
            case 0:
                level = Double.random(in: 500...1000, using: &rng)   // refill (or top-up)
                observation = sensor == .level ? .level(level) : .replaced(Bool.random(using: &rng) ? nil : level)
            case 1:
                // sensor noise around the current level, up and down
                let noisy = level + Double.random(in: -15...15, using: &rng)
                observation = sensor == .level ? .level(noisy) : .consumed(Double.random(in: -1...0.5, using: &rng))
            default:
                let use = Double.random(in: 0...40, using: &rng)
                level = max(0, level - use)
                observation = sensor == .level ? .level(level) : .consumed(use)
            }
            h.apply(observation, at: t)
            t = t.addingTimeInterval(Double.random(in: 1...3 * 3600, using: &rng))
            #expect(h.ledger.consumedTotal >= previous, "step \(step): \(observation)")
            #expect(h.ledger.consumedSinceLastReport >= -1e-9)
            #expect(h.ledger.consumedSinceLastReport <= h.ledger.consumedTotal + 1e-9)
            if let remaining = h.ledger.remaining { #expect(remaining >= 0) }
            previous = h.ledger.consumedTotal
            if step % 97 == 0 { h.ledger.markReported(total: h.ledger.consumedTotal) }
        }
        // Every consumption landed on a retained day or aged out: never more in the days than on the meter.
        #expect(h.ledger.daily.count <= SlotLedger.retainedDays)
        #expect(h.ledger.daily.reduce(0) { $0 + $1.consumed } <= h.ledger.consumedTotal + 1e-6)
    }

    @Test("daily totals add up to consumedTotal")
    func dailyTotalsSumToMeter() {
        var h = LedgerHarness(Fixture.slot(.usage))
        var t = Fixture.local(2026, 5, 1, 8)
        for i in 0..<100 {
            h.apply(.consumed(Double(i % 7) + 0.5), at: t)
            t = t.addingTimeInterval(5 * 3600)
        }
        let sum = h.ledger.daily.reduce(0) { $0 + $1.consumed }
        #expect(abs(sum - h.ledger.consumedTotal) < 1e-9)
        #expect(abs(h.ledger.dailyConsumedTotal - h.ledger.consumedTotal) < 1e-9)
        #expect(h.ledger.daily.map(\.day) == h.ledger.daily.map(\.day).sorted())
    }

    @Test("a reading stamped on an earlier day (clock stepped back) counts in the open day, once; closed days never change")
    func clockSteppedBack() {
        var h = LedgerHarness(Fixture.slot(.usage))
        h.apply(.consumed(10), at: Fixture.local(2026, 5, 4, 9))
        h.apply(.consumed(20), at: Fixture.local(2026, 5, 5, 9))
        h.apply(.consumed(5), at: Fixture.local(2026, 5, 4, 23))
        #expect(h.ledger.consumed(on: DayKey(year: 2026, month: 5, day: 4)) == 10)
        #expect(h.ledger.consumed(on: DayKey(year: 2026, month: 5, day: 5)) == 25)
        #expect(h.ledger.openDay == DayKey(year: 2026, month: 5, day: 5))
        #expect(h.ledger.closedDays.count == 1)
        #expect(h.ledger.consumedTotal == 35)
    }

    @Test("history keeps at most retainedDays days, the newest ones")
    func retention() {
        var h = LedgerHarness(Fixture.slot(.usage))
        let first = Fixture.local(2026, 1, 1, 12)
        for d in 0..<(SlotLedger.retainedDays + 10) {
            h.apply(.consumed(1), at: Fixture.berlin.adding(days: d, to: first))
        }
        #expect(h.ledger.daily.count == SlotLedger.retainedDays)
        #expect(h.ledger.daily.first?.day == DayKey(Fixture.berlin.adding(days: 10, to: first), in: Fixture.berlin))
        #expect(h.ledger.closedDayCount == SlotLedger.retainedDays + 9)
        #expect(h.ledger.daily.last?.day == h.ledger.openDay)
        #expect(h.ledger.consumedTotal == Double(SlotLedger.retainedDays + 10))
    }

    @Test("non-finite sensor values are ignored instead of wiping out or inflating the meter",
          arguments: [Double.nan, .infinity, -.infinity])
    func nonFinite(_ bad: Double) {
        var level = LedgerHarness(Fixture.slot(.level))
        level.apply([.level(800), .level(bad), .level(790)])
        #expect(level.ledger.consumedTotal == 10)
        #expect(level.ledger.remaining == 790)
        #expect(level.events.isEmpty)

        var usage = LedgerHarness(Fixture.slot(.usage))
        usage.apply([.consumed(5), .consumed(bad), .consumed(5)])
        #expect(usage.ledger.consumedTotal == 10)
    }

    @Test("the ledger survives a Codable round trip unchanged")
    func codableRoundTrip() throws {
        var h = LedgerHarness(Fixture.slot(.level))
        h.apply([.level(900), .level(800), .level(990), .level(700)])
        h.ledger.markReported(total: 50)
        let data = try JSONEncoder().encode(h.ledger)
        let back = try JSONDecoder().decode(SlotLedger.self, from: data)
        #expect(back == h.ledger)
    }
    @Test("a ledger stored in the previous format (per-date daily, no open day) still loads: its newest day is the open one")
    func decodesPreviousFormat() throws {
        let old = #"""
        {"consumedTotal":60,"reportedTotal":10,"refillCount":0,"firstDay":"2026-05-02",
         "daily":[{"day":"2026-05-02","consumed":15},{"day":"2026-05-03","consumed":25},{"day":"2026-05-04","consumed":20}],
         "remaining":940,"referenceLevel":940}
        """#
        let ledger = try JSONDecoder().decode(SlotLedger.self, from: Data(old.utf8))
        #expect(ledger.consumedTotal == 60)
        #expect(ledger.consumedSinceLastReport == 50)
        #expect(ledger.closedDays == [.init(day: DayKey(year: 2026, month: 5, day: 2), consumed: 15, whole: false),
                                      .init(day: DayKey(year: 2026, month: 5, day: 3), consumed: 25)])
        #expect(ledger.openDay == DayKey(year: 2026, month: 5, day: 4))
        #expect(ledger.openConsumed == 20)
        #expect(ledger.dailyConsumedTotal == 60)
        #expect(ledger.averageDailyConsumption(window: 14) == 25)
    }
}
