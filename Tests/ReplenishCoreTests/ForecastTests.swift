import Foundation
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

@Suite("Daily average and run-out forecast")
struct ForecastTests {
    let zone = Fixture.berlin

    /// A usage-style history on a levelUsage slot: `perDay[i]` consumed at 10:00 on day i after 2026-05-01.
    func ledger(perDay: [Double], capacity: Double = 100_000, window: Int = 14,
                firstReadingHour: Int = 10) -> (LedgerHarness, Date) {
        var h = LedgerHarness(Fixture.slot(.levelUsage, capacity: capacity, window: window))
        let start = Fixture.local(2026, 5, 1, firstReadingHour)
        for (i, q) in perDay.enumerated() {
            let at = zone.adding(days: i, to: start)
            h.apply(q > 0 ? .consumed(q) : .consumed(0), at: at)
        }
        return (h, start)
    }

    @Test("steady 100 a day for 10 days with 500 left runs out 5 days after now")
    func steadyRate() throws {
        var h = LedgerHarness(Fixture.slot(.level, capacity: 2000))
        let start = Fixture.local(2026, 5, 1, 0, 30)
        h.apply(.level(1500), at: start)
        // 100 a day, in four uses, on days 1...10 (day 0 is the partial first day)
        for d in 1...10 {
            for u in 0..<4 {
                let at = zone.adding(days: d, to: start).addingTimeInterval(Double(u) * 3 * 3600)
                h.apply(.level(1500 - Double((d - 1) * 100 + (u + 1) * 25)), at: at)
            }
        }
        #expect(h.ledger.remaining == 500)
        let now = Fixture.local(2026, 5, 12, 9)
        let rate = try #require(h.ledger.averageDailyConsumption(asOf: now, window: 14, zone: zone))
        #expect(abs(rate - 100) < 1e-9)
        let runOut = try #require(h.ledger.expectedRunOut(asOf: now, window: 14, zone: zone))
        #expect(abs(runOut.timeIntervalSince(now) - 5 * 86_400) < 1e-6)
    }

    @Test("without a whole day of history there is no average and no forecast")
    func noWholeDay() {
        var h = LedgerHarness(Fixture.slot(.level))
        let morning = Fixture.local(2026, 5, 4, 7)
        h.apply([.level(900), .level(800), .level(700)], from: morning)
        let evening = Fixture.local(2026, 5, 4, 22)
        #expect(h.ledger.averageDailyConsumption(asOf: evening, window: 14, zone: zone) == nil)
        #expect(h.ledger.expectedRunOut(asOf: evening, window: 14, zone: zone) == nil)
        #expect(SlotLedger().averageDailyConsumption(asOf: evening, window: 14, zone: zone) == nil)
    }

    @Test("zero consumption gives no run-out date")
    func zeroConsumption() {
        var h = LedgerHarness(Fixture.slot(.level))
        h.apply(.level(700), at: Fixture.local(2026, 5, 1, 10))
        h.apply(.level(700), at: Fixture.local(2026, 5, 3, 10))
        h.apply(.level(720), at: Fixture.local(2026, 5, 5, 10))
        let now = Fixture.local(2026, 5, 8, 10)
        #expect(h.ledger.averageDailyConsumption(asOf: now, window: 14, zone: zone) == 0)
        #expect(h.ledger.expectedRunOut(asOf: now, window: 14, zone: zone) == nil)
    }

    @Test("an empty slot runs out now")
    func emptyRunsOutNow() {
        var h = LedgerHarness(Fixture.slot(.level))
        h.apply([.level(50), .level(0)])
        let now = Fixture.local(2026, 5, 4, 18)
        #expect(h.ledger.expectedRunOut(asOf: now, window: 14, zone: zone) == now)
    }

    @Test("a usage slot, whose stock is elsewhere, has an average but no run-out date")
    func usageHasNoRunOut() {
        var h = LedgerHarness(Fixture.slot(.usage))
        for d in 0..<5 { h.apply(.consumed(30), at: Fixture.local(2026, 5, 1 + d, 10)) }
        let now = Fixture.local(2026, 5, 6, 10)
        #expect(h.ledger.averageDailyConsumption(asOf: now, window: 14, zone: zone) == 30)
        #expect(h.ledger.expectedRunOut(asOf: now, window: 14, zone: zone) == nil)
    }

    struct WindowCase: CustomTestStringConvertible, Sendable {
        var perDay: [Double]
        var window: Int
        var nowDayOffset: Int
        var expected: Double?
        var why: String
        var testDescription: String { why }
    }

    static let windowCases: [WindowCase] = [
        WindowCase(perDay: [10, 10, 10, 50, 50], window: 2, nowDayOffset: 5, expected: 50,
                   why: "the window keeps only the last N whole days"),
        WindowCase(perDay: [10, 10, 10, 50, 50], window: 4, nowDayOffset: 5, expected: 30,
                   why: "a window larger than the later days uses all of them"),
        WindowCase(perDay: [999, 20, 40], window: 14, nowDayOffset: 3, expected: 30,
                   why: "the partial first day is left out when later whole days exist"),
        WindowCase(perDay: [60], window: 14, nowDayOffset: 1, expected: 60,
                   why: "the first day counts when it is the only whole day"),
        WindowCase(perDay: [5, 40, 0, 0, 20], window: 14, nowDayOffset: 5, expected: 15,
                   why: "days without consumption count as zero"),
        WindowCase(perDay: [5, 40], window: 14, nowDayOffset: 6, expected: 8,
                   why: "silent days up to yesterday count as zero"),
        WindowCase(perDay: [5, 40, 70], window: 14, nowDayOffset: 2, expected: 40,
                   why: "today is never part of the average"),
        WindowCase(perDay: [5, 40], window: 0, nowDayOffset: 2, expected: nil,
                   why: "a zero window gives no average"),
    ]

    @Test("which days feed the average", arguments: windowCases)
    func window(_ c: WindowCase) throws {
        let (h, start) = ledger(perDay: c.perDay, window: c.window)
        let now = zone.adding(days: c.nowDayOffset, to: start).addingTimeInterval(3600)
        let average = h.ledger.averageDailyConsumption(asOf: now, window: c.window, zone: zone)
        if let expected = c.expected {
            let got = try #require(average)
            #expect(abs(got - expected) < 1e-9)
        } else {
            #expect(average == nil)
        }
    }

    @Test("the average across the spring-forward day counts it as one day")
    func averageAcrossDST() throws {
        // 2026-03-29 is 23 hours long in Berlin.
        let (h, _) = {
            var h = LedgerHarness(Fixture.slot(.usage))
            for d in 27...31 { h.apply(.consumed(10), at: Fixture.local(2026, 3, d, 1, 30)) }
            return (h, 0)
        }()
        let now = Fixture.local(2026, 4, 1, 8)
        let average = try #require(h.ledger.averageDailyConsumption(asOf: now, window: 14, zone: zone))
        #expect(average == 10)
    }

    /// A level slot fed through day changes: `perDay[i]` used on closed day i (`whole[i]`), `open` on the open day.
    func accounted(perDay: [Double], whole: [Bool], open: Double) -> SlotLedger {
        let definition = Fixture.slot(.level, capacity: 10_000)
        var ledger = SlotLedger()
        var level = 10_000.0
        var day = DayKey(year: 2026, month: 5, day: 1)
        ledger.apply(Reading(slot: definition.id, at: Fixture.noon, observation: .level(level)), definition: definition, day: day)
        for (q, w) in zip(perDay, whole) {
            level -= q
            _ = ledger.apply(Reading(slot: definition.id, at: Fixture.noon, observation: .level(level)),
                             definition: definition, day: day)
            let next = day.next()
            ledger.apply(.closed(days: [day], whole: w, newDay: next))   // the ledger's own first day is never whole
            day = next
        }
        level -= open
        _ = ledger.apply(Reading(slot: definition.id, at: Fixture.noon, observation: .level(level)), definition: definition, day: day)
        return ledger
    }

    struct AccountedCase: CustomTestStringConvertible, Sendable {
        var perDay: [Double]
        var whole: [Bool]
        var open: Double
        var window: Int
        var expected: Double?
        var why: String
        var testDescription: String { why }
    }

    static let accountedCases: [AccountedCase] = [
        AccountedCase(perDay: [5, 40, 20], whole: [false, true, true], open: 900, window: 14, expected: 30,
                      why: "the open day never counts, the partial first day only when alone"),
        AccountedCase(perDay: [5], whole: [false], open: 900, window: 14, expected: 5,
                      why: "a partial first day counts when it is the only closed day"),
        AccountedCase(perDay: [], whole: [], open: 900, window: 14, expected: nil,
                      why: "no closed day, no average"),
        AccountedCase(perDay: [5, 40, 300, 20, 7], whole: [false, true, false, true, false], open: 0, window: 14, expected: 30,
                      why: "days cut by a clock jump count only when nothing better exists"),
        AccountedCase(perDay: [10, 10, 50, 50], whole: [true, true, true, true], open: 0, window: 2, expected: 50,
                      why: "the window keeps the last N closed days"),
    ]

    @Test("with the day accounting: which closed days feed the average", arguments: accountedCases)
    func accountedWindow(_ c: AccountedCase) throws {
        let ledger = accounted(perDay: c.perDay, whole: c.whole, open: c.open)
        #expect(ledger.closedDays.count == c.perDay.count)
        #expect(ledger.openConsumed == c.open)
        #expect(ledger.averageDailyConsumption(window: c.window) == c.expected)
    }

    @Test("no replenishment date while the clock is unsynchronized; from now once it is")
    func runOutNeedsTrustedClock() throws {
        let ledger = accounted(perDay: [5, 100, 100], whole: [false, true, true], open: 0)
        let now = Fixture.local(2026, 5, 4, 9)
        #expect(ledger.expectedRunOut(asOf: now, window: 14, clock: .unsynchronized) == nil)
        let runOut = try #require(ledger.expectedRunOut(asOf: now, window: 14, clock: .synchronized))
        #expect(abs(runOut.timeIntervalSince(now) - (10_000 - 205) / 100 * 86_400) < 1e-6)
        let definition = Fixture.slot(.level, capacity: 10_000)
        let unsynced = SlotStatus(definition: definition, ledger: ledger, health: .ok, now: Date(timeIntervalSince1970: 0),
                                  clock: .unsynchronized)
        #expect(unsynced.expectedReplenishmentDate == nil)
        #expect(unsynced.averageDailyConsumption == 100)
    }
}
