import Foundation
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

@Suite("Local days: DayKey and daily aggregation across midnight and DST (Europe/Berlin)")
struct DayBoundaryTests {
    let zone = Fixture.berlin

    @Test("consumption at 23:59 and at 00:01 local lands on different days")
    func midnight() {
        var h = LedgerHarness(Fixture.slot(.usage))
        h.apply(.consumed(7), at: Fixture.local(2026, 5, 4, 23, 59))
        h.apply(.consumed(3), at: Fixture.local(2026, 5, 5, 0, 1))
        // May 4 is partial (the ledger started that day) and closed; May 5 is the open day.
        #expect(h.ledger.daily == [
            .init(day: DayKey(year: 2026, month: 5, day: 4), consumed: 7, whole: false),
            .init(day: DayKey(year: 2026, month: 5, day: 5), consumed: 3),
        ])
        #expect(h.ledger.closedDays.map(\.day) == [DayKey(year: 2026, month: 5, day: 4)])
        #expect(h.ledger.openDay == DayKey(year: 2026, month: 5, day: 5))
    }

    @Test("the local day, not the UTC day, is the key")
    func localNotUTC() {
        // 22:30 UTC on May 4 is 00:30 on May 5 in Berlin (CEST, UTC+2).
        let instant = Fixture.utc(2026, 5, 4, 22, 30)
        #expect(DayKey(instant, in: zone) == DayKey(year: 2026, month: 5, day: 5))
        #expect(DayKey(instant, in: Fixture.utc) == DayKey(year: 2026, month: 5, day: 4))
    }

    struct DSTInstant: CustomTestStringConvertible, Sendable {
        var utc: Date
        var day: DayKey
        var label: String
        var testDescription: String { label }
    }

    static let dstInstants: [DSTInstant] = [
        // Spring forward, 2026-03-29: 02:00 CET becomes 03:00 CEST.
        DSTInstant(utc: Fixture.utc(2026, 3, 28, 22, 59), day: .init(year: 2026, month: 3, day: 28), label: "23:59 CET before spring-forward day"),
        DSTInstant(utc: Fixture.utc(2026, 3, 28, 23, 1), day: .init(year: 2026, month: 3, day: 29), label: "00:01 CET on spring-forward day"),
        DSTInstant(utc: Fixture.utc(2026, 3, 29, 0, 59), day: .init(year: 2026, month: 3, day: 29), label: "01:59 CET, just before the gap"),
        DSTInstant(utc: Fixture.utc(2026, 3, 29, 1, 0), day: .init(year: 2026, month: 3, day: 29), label: "03:00 CEST, just after the gap"),
        DSTInstant(utc: Fixture.utc(2026, 3, 29, 21, 59), day: .init(year: 2026, month: 3, day: 29), label: "23:59 CEST, end of the 23-hour day"),
        DSTInstant(utc: Fixture.utc(2026, 3, 29, 22, 1), day: .init(year: 2026, month: 3, day: 30), label: "00:01 CEST after spring-forward day"),
        // Fall back, 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:00–02:59 happens twice.
        DSTInstant(utc: Fixture.utc(2026, 10, 24, 21, 59), day: .init(year: 2026, month: 10, day: 24), label: "23:59 CEST before fall-back day"),
        DSTInstant(utc: Fixture.utc(2026, 10, 24, 22, 1), day: .init(year: 2026, month: 10, day: 25), label: "00:01 CEST on fall-back day"),
        DSTInstant(utc: Fixture.utc(2026, 10, 25, 0, 30), day: .init(year: 2026, month: 10, day: 25), label: "first 02:30 (CEST)"),
        DSTInstant(utc: Fixture.utc(2026, 10, 25, 1, 30), day: .init(year: 2026, month: 10, day: 25), label: "second 02:30 (CET)"),
        DSTInstant(utc: Fixture.utc(2026, 10, 25, 22, 59), day: .init(year: 2026, month: 10, day: 25), label: "23:59 CET, end of the 25-hour day"),
        DSTInstant(utc: Fixture.utc(2026, 10, 25, 23, 1), day: .init(year: 2026, month: 10, day: 26), label: "00:01 CET after fall-back day"),
    ]

    @Test("instants around the DST changes fall on their local day", arguments: dstInstants)
    func dstDays(_ c: DSTInstant) {
        #expect(DayKey(c.utc, in: zone) == c.day)
    }

    @Test("consumption across a DST day aggregates into exactly that local day", arguments: [
        (DayKey(year: 2026, month: 3, day: 29), 23.0),
        (DayKey(year: 2026, month: 10, day: 25), 25.0),
    ])
    func dstAggregation(_ day: DayKey, hours: Double) {
        var h = LedgerHarness(Fixture.slot(.usage))
        let start = day.start(in: zone)
        // one use every 30 minutes of real (UTC) time, from just before midnight to just after the next
        var t = start.addingTimeInterval(-15 * 60)
        while t < start.addingTimeInterval(hours * 3600 + 15 * 60 + 1) {
            h.apply(.consumed(1), at: t)
            t = t.addingTimeInterval(30 * 60)
        }
        #expect(h.ledger.consumed(on: day) == hours * 2)
        #expect(h.ledger.daily.count == 3)
        #expect(h.ledger.consumedTotal == hours * 2 + 2)
    }

    @Test("a DST day starts at local midnight and lasts 23 or 25 hours", arguments: [
        (DayKey(year: 2026, month: 3, day: 29), Fixture.utc(2026, 3, 28, 23), 23.0),
        (DayKey(year: 2026, month: 10, day: 25), Fixture.utc(2026, 10, 24, 22), 25.0),
        (DayKey(year: 2026, month: 5, day: 4), Fixture.utc(2026, 5, 3, 22), 24.0),
    ])
    func dayLength(_ day: DayKey, start: Date, hours: Double) {
        #expect(day.start(in: zone) == start)
        #expect(day.next().start(in: zone).timeIntervalSince(start) == hours * 3600)
    }

    @Test("next day rolls over months, years and leap days", arguments: [
        (DayKey(year: 2026, month: 3, day: 28), DayKey(year: 2026, month: 3, day: 29)),
        (DayKey(year: 2026, month: 3, day: 29), DayKey(year: 2026, month: 3, day: 30)),
        (DayKey(year: 2026, month: 10, day: 25), DayKey(year: 2026, month: 10, day: 26)),
        (DayKey(year: 2026, month: 4, day: 30), DayKey(year: 2026, month: 5, day: 1)),
        (DayKey(year: 2026, month: 12, day: 31), DayKey(year: 2027, month: 1, day: 1)),
        (DayKey(year: 2028, month: 2, day: 28), DayKey(year: 2028, month: 2, day: 29)),
        (DayKey(year: 2027, month: 2, day: 28), DayKey(year: 2027, month: 3, day: 1)),
    ])
    func nextDay(_ day: DayKey, next: DayKey) {
        #expect(day.next() == next)
        #expect(day < next)
    }

    @Test("DayKey orders chronologically and encodes as YYYY-MM-DD")
    func dayKeyCoding() throws {
        let days = [DayKey(year: 2027, month: 1, day: 2), DayKey(year: 2026, month: 12, day: 31), DayKey(year: 2026, month: 2, day: 10)]
        #expect(days.sorted().map(\.description) == ["2026-02-10", "2026-12-31", "2027-01-02"])
        let data = try JSONEncoder().encode([DayKey(year: 2026, month: 3, day: 9)])
        #expect(String(decoding: data, as: UTF8.self) == #"["2026-03-09"]"#)
        #expect(try JSONDecoder().decode([DayKey].self, from: data) == [DayKey(year: 2026, month: 3, day: 9)])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode([DayKey].self, from: Data(#"["2026-03"]"#.utf8)) }
    }
}

@Suite("Report schedule")
struct ReportScheduleTests {
    let zone = Fixture.berlin

    struct DailyCase: CustomTestStringConvertible, Sendable {
        var at: String
        var after: Date
        var expected: Date
        var label: String
        var testDescription: String { label }
    }

    static let dailyCases: [DailyCase] = [
        DailyCase(at: "03:00", after: Fixture.local(2026, 5, 4, 12), expected: Fixture.utc(2026, 5, 5, 1),
                  label: "03:00 on an ordinary day: tomorrow 03:00 CEST"),
        DailyCase(at: "03:00", after: Fixture.local(2026, 5, 4, 2, 59), expected: Fixture.utc(2026, 5, 4, 1),
                  label: "03:00 later the same day"),
        DailyCase(at: "03:00", after: Fixture.utc(2026, 5, 4, 1), expected: Fixture.utc(2026, 5, 5, 1),
                  label: "strictly after: exactly 03:00 gives the next day"),
        DailyCase(at: "03:00", after: Fixture.utc(2026, 3, 28, 2), expected: Fixture.utc(2026, 3, 29, 1),
                  label: "03:00 on spring-forward day is 03:00 CEST, 23 hours after the day before"),
        DailyCase(at: "03:00", after: Fixture.utc(2026, 3, 29, 1), expected: Fixture.utc(2026, 3, 30, 1),
                  label: "03:00 after spring-forward day"),
        DailyCase(at: "03:00", after: Fixture.utc(2026, 10, 24, 1), expected: Fixture.utc(2026, 10, 25, 2),
                  label: "03:00 on fall-back day is 03:00 CET, 25 hours after the day before"),
        DailyCase(at: "03:00", after: Fixture.utc(2026, 10, 25, 0, 30), expected: Fixture.utc(2026, 10, 25, 2),
                  label: "03:00 on fall-back day from within the first 02:xx hour"),
        DailyCase(at: "03:00", after: Fixture.utc(2026, 10, 25, 2), expected: Fixture.utc(2026, 10, 26, 2),
                  label: "03:00 after fall-back day"),
        DailyCase(at: "02:30", after: Fixture.local(2026, 3, 28, 12), expected: Fixture.utc(2026, 3, 29, 1),
                  label: "02:30 does not exist on spring-forward day: the next valid instant, 03:00 CEST"),
        DailyCase(at: "02:30", after: Fixture.utc(2026, 3, 29, 1), expected: Fixture.utc(2026, 3, 30, 0, 30),
                  label: "02:30 the day after spring-forward"),
        DailyCase(at: "02:30", after: Fixture.local(2026, 10, 24, 12), expected: Fixture.utc(2026, 10, 25, 0, 30),
                  label: "02:30 on fall-back day: the first occurrence"),
        DailyCase(at: "02:30", after: Fixture.utc(2026, 10, 25, 0, 30), expected: Fixture.utc(2026, 10, 26, 1, 30),
                  label: "02:30 on fall-back day fires once, not again at the repeated 02:30"),
        DailyCase(at: "00:00", after: Fixture.local(2026, 12, 31, 23, 59, 59), expected: Fixture.utc(2026, 12, 31, 23),
                  label: "midnight across the year end"),
    ]

    @Test("nextDaily", arguments: dailyCases)
    func nextDaily(_ c: DailyCase) throws {
        let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: c.at)))
        let next = schedule.nextDaily(after: c.after, zone: zone)
        #expect(next == c.expected, "got \(Timestamp.string(next))")
        #expect(next > c.after)
    }

    @Test("nextDaily is strictly after the instant and at most one day and an hour later, every 17 minutes for a year")
    func nextDailyProperty() throws {
        for text in ["03:00", "02:30", "00:00", "23:59"] {
            let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: text)))
            var t = Fixture.local(2026, 1, 1, 0)
            let end = Fixture.local(2027, 1, 1, 0)
            while t < end {
                let next = schedule.nextDaily(after: t, zone: zone)
                #expect(next > t)
                #expect(next.timeIntervalSince(t) <= 25 * 3600)
                t = t.addingTimeInterval(17 * 60 * 3 + 7)
            }
        }
    }

    @Test("chained nextDaily gives exactly one report per local day through a whole year",
          arguments: ["03:00", "02:30", "02:00", "00:00"])
    func oneReportPerDay(_ text: String) throws {
        let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: text)))
        var t = Fixture.local(2025, 12, 31, 12)
        var days: [DayKey] = []
        for _ in 0..<365 {
            t = schedule.nextDaily(after: t, zone: zone)
            days.append(DayKey(t, in: zone))
        }
        #expect(Set(days).count == 365)
        #expect(days.first == DayKey(year: 2026, month: 1, day: 1))
        #expect(days.last == DayKey(year: 2026, month: 12, day: 31))
    }

}

@Suite("Time of day")
struct TimeOfDayTests {
    @Test("parses H:MM and HH:MM", arguments: [
        ("03:00", 3, 0), ("3:00", 3, 0), ("23:59", 23, 59), ("00:00", 0, 0), ("12:07", 12, 7),
    ])
    func parses(_ text: String, hour: Int, minute: Int) throws {
        let t = try #require(TimeOfDay(parsing: text))
        #expect(t.hour == hour && t.minute == minute)
        #expect(TimeOfDay(parsing: t.description) == t)
    }

    @Test("rejects what is not a time of day",
          arguments: ["24:00", "12:60", "3", "3:0", "003:00", "12:00:00", "", ":", "-1:00", "+1:00", "a1:00", "١٢:٠٠", " 3:00"])
    func rejects(_ text: String) {
        #expect(TimeOfDay(parsing: text) == nil)
    }

    @Test("prints zero-padded HH:MM")
    func description() {
        #expect(TimeOfDay(hour: 3, minute: 5)?.description == "03:05")
        #expect(TimeOfDay(hour: 23, minute: 0)?.description == "23:00")
        #expect(TimeOfDay(hour: 24, minute: 0) == nil)
        #expect(TimeOfDay(hour: 0, minute: -1) == nil)
    }
}

@Suite("daily_at inside a repeated or skipped local hour (Europe/Berlin)")
struct DailyAtDSTTests {
    let zone = Fixture.berlin

    @Test("after the first 02:30 of the fall-back day has passed, the next is tomorrow's, not the repeated 02:30",
          arguments: [1.0, 60, 900, 1799, 3599])
    func repeatedHour(_ secondsLate: Double) throws {
        let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: "02:30")))
        // First 02:30 (CEST) is 00:30 UTC; a scheduler waking a little late, or a restart, asks from here.
        let after = Fixture.utc(2026, 10, 25, 0, 30).addingTimeInterval(secondsLate)
        let next = schedule.nextDaily(after: after, zone: zone)
        #expect(next == Fixture.utc(2026, 10, 26, 1, 30), "got \(Timestamp.string(next))")
    }

    @Test("a daily_at in the skipped spring hour fires once, at 03:00 CEST, and next at tomorrow's time",
          arguments: [0.0, 1, 60, 1799])
    func skippedHour(_ secondsLate: Double) throws {
        let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: "02:30")))
        let fired = schedule.nextDaily(after: Fixture.local(2026, 3, 28, 12), zone: zone)
        #expect(fired == Fixture.utc(2026, 3, 29, 1))
        let next = schedule.nextDaily(after: fired.addingTimeInterval(secondsLate), zone: zone)
        #expect(next == Fixture.utc(2026, 3, 30, 0, 30), "got \(Timestamp.string(next))")
    }

    @Test("polled every minute through both DST days, each daily_at in the changed hours falls due once per local day",
          arguments: ["02:00", "02:30", "02:59", "03:00"])
    func oncePerDayWhenPolled(_ text: String) throws {
        let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: text)))
        for (start, end) in [(Fixture.local(2026, 3, 28, 12), Fixture.local(2026, 3, 31, 12)),
                             (Fixture.local(2026, 10, 24, 12), Fixture.local(2026, 10, 27, 12))] {
            // What ReportScheduler does: fire when the wall clock reaches the deadline (seen up
            // to a minute late), then ask for the next one from that moment.
            var next = schedule.nextDaily(after: start, zone: zone)
            var fired: [DayKey] = []
            var t = start.addingTimeInterval(7)  // off the minute grid, as real wake-ups are
            while t < end {
                t = t.addingTimeInterval(60)
                if t >= next {
                    fired.append(DayKey(t, in: zone))
                    next = schedule.nextDaily(after: t, zone: zone)
                }
            }
            #expect(fired.count == 3, "\(text): fired on \(fired)")
            #expect(Set(fired).count == fired.count, "\(text): twice on one day: \(fired)")
        }
    }
}
