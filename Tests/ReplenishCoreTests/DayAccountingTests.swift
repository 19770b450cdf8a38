import Foundation
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

/// Wall clock, monotonic clock and trust, moved by hand, feeding one `DayAccounting`.
struct TimeSim {
    var wall: Date
    var mono: Double = 1_000
    var synchronized: Bool
    var accounting = DayAccounting()
    let zone: LocalZone

    init(wall: Date, synchronized: Bool, zone: LocalZone = Fixture.berlin) {
        self.wall = wall
        self.synchronized = synchronized
        self.zone = zone
    }

    mutating func sample() -> DayChange {
        accounting.advance(TimeSample(wall: wall, monotonic: mono, synchronized: synchronized), zone: zone)
    }

    /// Time passes: both clocks move.
    mutating func pass(_ seconds: Double) {
        wall = wall.addingTimeInterval(seconds)
        mono += seconds
    }

    /// The process stops for `downtime` and starts again: the accounting goes through its persisted
    /// form and the monotonic clock starts from a new origin.
    mutating func restart(downtime: Double) throws {
        let data = try JSONEncoder().encode(accounting)
        accounting = try JSONDecoder().decode(DayAccounting.self, from: data)
        wall = wall.addingTimeInterval(downtime)
        mono = 3
    }
}

func day(_ y: Int, _ m: Int, _ d: Int) -> DayKey { DayKey(year: y, month: m, day: d) }

@Suite("Day accounting: which day is open, and when days close, whatever the wall clock does")
struct DayAccountingTests {
    enum Step: Sendable {
        case sample
        case pass(Double)
        case jump(Double)
        case setWall(Date)
        case trust(Bool)
        case restart(downtime: Double)
    }

    struct Case: CustomTestStringConvertible, Sendable {
        var label: String
        var start: Date
        var synchronized: Bool
        var steps: [Step]
        /// The changes the samples returned, `.none` left out.
        var changes: [DayChange]
        var openDay: DayKey
        var closed: Int
        var testDescription: String { label }
    }

    static let hour = 3_600.0
    static let dayLength = 86_400.0
    static let threeYears = 1_096 * dayLength     // 2026-05-04 → 2029-05-04 (2028 is a leap year)
    static let oneYear = 365 * dayLength          // 2026-05-05 → 2025-05-05

    static let cases: [Case] = [
        Case(label: "normal midnight: the first (partial) day closes, then a whole one",
             start: Fixture.local(2026, 5, 3, 23), synchronized: true,
             steps: [.sample, .pass(2 * hour), .sample, .pass(24 * hour), .sample],
             changes: [.closed(days: [day(2026, 5, 3)], whole: false, newDay: day(2026, 5, 4)),
                       .closed(days: [day(2026, 5, 4)], whole: true, newDay: day(2026, 5, 5))],
             openDay: day(2026, 5, 5), closed: 2),
        Case(label: "three midnights between two samples: the open day and two quiet days close",
             start: Fixture.local(2026, 5, 4, 12), synchronized: true,
             steps: [.sample, .pass(72 * hour), .sample],
             changes: [.closed(days: [day(2026, 5, 4), day(2026, 5, 5), day(2026, 5, 6)], whole: false, newDay: day(2026, 5, 7))],
             openDay: day(2026, 5, 7), closed: 3),
        Case(label: "never synchronized: days of consumption accumulate in the one open day",
             start: Fixture.utc(1970, 1, 1), synchronized: false,
             steps: [.sample, .pass(10 * hour), .sample, .pass(30 * hour), .sample, .pass(30 * hour), .sample],
             changes: [], openDay: day(1970, 1, 1), closed: 0),
        Case(label: "synchronization re-keys the 1970 day to today; the next midnight closes it",
             start: Fixture.utc(1970, 1, 1), synchronized: false,
             steps: [.sample, .pass(hour), .sample, .setWall(Fixture.local(2026, 5, 4, 10)), .trust(true), .sample,
                     .pass(16 * hour), .sample],
             changes: [.rekeyed(from: day(1970, 1, 1), to: day(2026, 5, 4)),
                       .closed(days: [day(2026, 5, 4)], whole: false, newDay: day(2026, 5, 5))],
             openDay: day(2026, 5, 5), closed: 1),
        Case(label: "a forward jump of 3 years re-keys the open day; nothing closes until a real midnight",
             start: Fixture.local(2026, 5, 4, 10), synchronized: true,
             steps: [.sample, .pass(hour), .sample, .jump(threeYears), .sample, .pass(hour), .sample, .pass(24 * hour), .sample],
             changes: [.rekeyed(from: day(2026, 5, 4), to: day(2029, 5, 4)),
                       .closed(days: [day(2029, 5, 4)], whole: false, newDay: day(2029, 5, 5))],
             openDay: day(2029, 5, 5), closed: 1),
        Case(label: "a back jump of a year re-keys the open day; no day is reopened or erased",
             start: Fixture.local(2026, 5, 4, 10), synchronized: true,
             steps: [.sample, .pass(24 * hour), .sample, .jump(-oneYear), .sample, .pass(14 * hour), .sample],
             changes: [.closed(days: [day(2026, 5, 4)], whole: false, newDay: day(2026, 5, 5)),
                       .rekeyed(from: day(2026, 5, 5), to: day(2025, 5, 5)),
                       .closed(days: [day(2025, 5, 5)], whole: false, newDay: day(2025, 5, 6))],
             openDay: day(2025, 5, 6), closed: 2),
        Case(label: "a jump in the same interval as a real midnight: the midnight closes, then the day is re-keyed",
             start: Fixture.local(2026, 5, 4, 23, 50), synchronized: true,
             steps: [.sample, .pass(20 * 60), .jump(threeYears), .sample],
             changes: [.closed(days: [day(2026, 5, 4)], whole: false, newDay: day(2029, 5, 5))],
             openDay: day(2029, 5, 5), closed: 1),
        Case(label: "a step back of 3 minutes across midnight changes nothing",
             start: Fixture.local(2026, 5, 5, 0, 1), synchronized: true,
             steps: [.sample, .jump(-180), .sample, .pass(60), .sample, .pass(120), .sample],
             changes: [], openDay: day(2026, 5, 5), closed: 0),
        Case(label: "restart after 3 days down, stale fake-hwclock first: exactly one day closes, no zero days",
             start: Fixture.local(2026, 5, 3, 10), synchronized: true,
             steps: [.sample, .pass(14 * hour), .sample, .pass(10 * hour), .sample,
                     .restart(downtime: 3 * dayLength + 5 * hour), .trust(false), .setWall(Fixture.local(2026, 5, 4, 10)),
                     .sample, .pass(60), .setWall(Fixture.local(2026, 5, 7, 15)), .trust(true), .sample],
             changes: [.closed(days: [day(2026, 5, 3)], whole: false, newDay: day(2026, 5, 4)),
                       .closed(days: [day(2026, 5, 4)], whole: false, newDay: day(2026, 5, 7))],
             openDay: day(2026, 5, 7), closed: 2),
        Case(label: "restart the same day: nothing closes",
             start: Fixture.local(2026, 5, 4, 10), synchronized: true,
             steps: [.sample, .pass(hour), .sample, .restart(downtime: 600), .sample, .pass(hour), .sample],
             changes: [], openDay: day(2026, 5, 4), closed: 0),
        Case(label: "restart into an NTP time before the stored day: re-keyed, nothing closes",
             start: Fixture.local(2026, 5, 4, 10), synchronized: true,
             steps: [.sample, .restart(downtime: 60), .setWall(Fixture.local(2026, 5, 1, 10)), .sample],
             changes: [.rekeyed(from: day(2026, 5, 4), to: day(2026, 5, 1))],
             openDay: day(2026, 5, 1), closed: 0),
        Case(label: "trust lost after it was had: days close on the monotonic clock, not on the stepped wall clock",
             start: Fixture.local(2026, 5, 4, 10), synchronized: true,
             steps: [.sample, .trust(false), .jump(-oneYear), .pass(24 * hour), .sample, .pass(24 * hour), .sample,
                     .trust(true), .sample],
             changes: [.closed(days: [day(2026, 5, 4)], whole: false, newDay: day(2026, 5, 5)),
                       .closed(days: [day(2026, 5, 5)], whole: true, newDay: day(2026, 5, 6)),
                       .rekeyed(from: day(2026, 5, 6), to: day(2025, 5, 6))],
             openDay: day(2025, 5, 6), closed: 2),
        Case(label: "an unsynchronized restart keeps the stored day until trust comes",
             start: Fixture.local(2026, 5, 4, 10), synchronized: true,
             steps: [.sample, .restart(downtime: 2 * dayLength), .trust(false), .setWall(Fixture.utc(1970, 1, 1)), .sample,
                     .pass(30 * hour), .sample],
             changes: [], openDay: day(2026, 5, 4), closed: 0),
    ]

    @Test("case table", arguments: cases)
    func table(_ c: Case) throws {
        var sim = TimeSim(wall: c.start, synchronized: c.synchronized)
        var changes: [DayChange] = []
        for step in c.steps {
            switch step {
            case .sample:
                let change = sim.sample()
                if change != .none { changes.append(change) }
            case .pass(let s): sim.pass(s)
            case .jump(let s): sim.wall = sim.wall.addingTimeInterval(s)
            case .setWall(let d): sim.wall = d
            case .trust(let t): sim.synchronized = t
            case .restart(let downtime): try sim.restart(downtime: downtime)
            }
        }
        #expect(changes == c.changes)
        #expect(sim.accounting.openDay == c.openDay)
        #expect(sim.accounting.closedDayCount == c.closed)
    }

    @Test("the persisted form has the open day and its flags, not the process's monotonic reference")
    func persistedForm() throws {
        var sim = TimeSim(wall: Fixture.noon, synchronized: true)
        _ = sim.sample()
        let data = try JSONEncoder().encode(sim.accounting)
        let back = try JSONDecoder().decode(DayAccounting.self, from: data)
        #expect(back.openDay == day(2026, 5, 4))
        #expect(back.openDayTrusted)
        #expect(try JSONDecoder().decode(DayAccounting.self, from: Data("{}".utf8)) == DayAccounting())
        // The monotonic reference: with it, untrusted time a day later closes the day on the
        // monotonic clock (holdover); the decoded accounting has none, so the same sample closes nothing.
        var restored = sim
        restored.accounting = back
        sim.synchronized = false
        restored.synchronized = false
        sim.pass(86_400)
        restored.pass(86_400)
        #expect(sim.sample() == .closed(days: [day(2026, 5, 4)], whole: false, newDay: day(2026, 5, 5)))
        #expect(restored.sample() == .none)
    }
}

/// A board: clocks, accounting and two ledgers (a usage and a level slot), wired the way the agent does it.
struct Board {
    var sim: TimeSim
    var ledgers: [SlotLedger] = [SlotLedger(), SlotLedger()]
    let definitions = [Fixture.slot(.usage, id: "pulses"), Fixture.slot(.level, capacity: 1_000_000, id: "tank")]
    var level = 1_000_000.0
    /// Consumption seen by each ledger since its open day opened (the oracle).
    var observedSinceClose: [Double] = [0, 0]
    /// Local midnights passed while the clock was trusted and not stepped.
    var realBoundaries = 0
    var steps = 0
    /// Days the wall clock showed only while untrusted.
    var untrustedDays: Set<DayKey> = []

    init(wall: Date, synchronized: Bool) {
        sim = TimeSim(wall: wall, synchronized: synchronized)
    }

    /// Samples the clocks and makes every ledger follow; checks what closed against the oracle.
    mutating func sample() {
        if !sim.synchronized { untrustedDays.insert(DayKey(sim.wall, in: sim.zone)) }
        let change = sim.sample()
        for i in ledgers.indices {
            ledgers[i].apply(change)
            if case .closed(let days, _, _) = change, ledgers[i].openDay != nil {
                let added = ledgers[i].closedDays.suffix(days.count)
                #expect(added.first?.consumed == observedSinceClose[i], "closed day \(days[0]) holds what was observed")
                #expect(added.dropFirst().allSatisfy { $0.consumed == 0 }, "quiet days are quiet")
                observedSinceClose[i] = 0
            }
        }
    }

    /// 15 minutes pass; one unit is used on each slot.
    mutating func step() {
        let before = DayKey(sim.wall, in: sim.zone)
        let trustedBefore = sim.synchronized
        sim.pass(900)
        steps += 1
        if trustedBefore, sim.synchronized {
            var d = before
            while d < DayKey(sim.wall, in: sim.zone) { realBoundaries += 1; d = d.next() }
        }
        sample()
        level -= 1
        let day = sim.accounting.openDay!
        let observations: [Observation] = [.consumed(1), .level(level)]
        for i in ledgers.indices {
            let total = ledgers[i].consumedTotal
            _ = ledgers[i].apply(Reading(slot: definitions[i].id, at: sim.wall, observation: observations[i]),
                             definition: definitions[i], day: day)
            observedSinceClose[i] += ledgers[i].consumedTotal - total
        }
    }

    mutating func run(hours: Double) { for _ in 0..<Int(hours * 4) { step() } }

    /// The wall clock is stepped (NTP, fake-hwclock); no time passes.
    mutating func setWall(_ date: Date, synchronized: Bool) {
        sim.wall = date
        sim.synchronized = synchronized
        sample()
    }

    func status(_ i: Int) -> SlotStatus {
        SlotStatus(definition: definitions[i], ledger: ledgers[i], health: .ok, now: sim.wall,
                   clock: ClockStatus(synchronized: sim.synchronized))
    }
}

@Suite("Ledgers following the day accounting through clock jumps")
struct ClockJumpLedgerTests {
    struct Scenario: CustomTestStringConvertible, Sendable {
        var boot: Date
        var forwardYears: Int
        var backYears: Int
        var testDescription: String {
            "boot at \(Timestamp.string(boot)), then +\(forwardYears) years, then -\(backYears + forwardYears) years"
        }
    }

    @Test("starting with the wall clock years behind, then jumping forward, then back, produces no bogus day",
          arguments: [
              Scenario(boot: Fixture.utc(1970, 1, 1), forwardYears: 3, backYears: 1),
              Scenario(boot: Fixture.utc(1970, 1, 1, 23, 50), forwardYears: 10, backYears: 4),
              Scenario(boot: Fixture.local(2025, 11, 2, 8), forwardYears: 1, backYears: 30),   // stale fake-hwclock
          ])
    func noBogusDay(_ s: Scenario) throws {
        let zone = Fixture.berlin
        var board = Board(wall: s.boot, synchronized: false)
        board.sample()
        board.run(hours: 30)                        // untrusted, across the boot-time midnight(s)
        #expect(board.sim.accounting.closedDayCount == 0)
        #expect(board.ledgers.allSatisfy { $0.closedDays.isEmpty })
        #expect(board.status(1).expectedReplenishmentDate == nil)
        #expect(!board.untrustedDays.isEmpty)

        let synced = Fixture.local(2026, 5, 4, 9, 13)
        board.setWall(synced, synchronized: true)   // NTP: 2026
        board.run(hours: 84)
        board.setWall(zone.adding(years: s.forwardYears, to: board.sim.wall), synchronized: true)
        board.run(hours: 48)
        board.setWall(zone.adding(years: -(s.forwardYears + s.backYears), to: board.sim.wall),
                      synchronized: true)
        board.run(hours: 72)

        #expect(board.realBoundaries == 8)
        #expect(board.sim.accounting.closedDayCount == board.realBoundaries)
        for (i, ledger) in board.ledgers.enumerated() {
            #expect(ledger.closedDayCount == board.realBoundaries, "slot \(i)")
            #expect(abs(ledger.dailyConsumedTotal - ledger.consumedTotal) < 1e-9, "slot \(i): days add up to the meter")
            #expect(ledger.closedDays.allSatisfy { !board.untrustedDays.contains($0.day) }, "slot \(i): no day of the untrusted clock")
            // Every whole day is a real day of 96 quarter hours; the forecast sees only those.
            #expect(ledger.closedDays.filter(\.whole).map(\.consumed) == [96, 96, 96, 96, 96], "slot \(i)")
            #expect(ledger.averageDailyConsumption(window: 14) == 96, "slot \(i)")
        }
        #expect(board.ledgers[0].consumedTotal == Double(board.steps))
        #expect(board.ledgers[1].consumedTotal == Double(board.steps - 1))   // the first level is the reference
        let status = board.status(1)
        #expect(status.averageDailyConsumption == 96)
        let runOut = try #require(status.expectedReplenishmentDate)
        #expect(abs(runOut.timeIntervalSince(board.sim.wall) - board.level / 96 * 86_400) < 1)
    }

    @Test("a restart after two days down closes the open day once and invents no day of downtime")
    func restartAfterDowntime() throws {
        var board = Board(wall: Fixture.local(2026, 5, 4, 9, 13), synchronized: true)
        board.sample()
        board.run(hours: 48)
        let closedBefore = board.sim.accounting.closedDayCount
        let openBefore = board.ledgers[0].openConsumed
        // Down for two days and a bit; everything goes through its persisted form.
        try board.sim.restart(downtime: 2 * 86_400 + 3_600)
        board.ledgers = try board.ledgers.map { try JSONDecoder().decode(SlotLedger.self, from: JSONEncoder().encode($0)) }
        board.sim.synchronized = false
        board.sample()
        #expect(board.sim.accounting.closedDayCount == closedBefore)
        board.setWall(board.sim.wall, synchronized: true)
        #expect(board.sim.accounting.closedDayCount == closedBefore + 1)
        #expect(board.ledgers[0].closedDays.last?.consumed == openBefore)
        #expect(board.ledgers[0].openDay == DayKey(board.sim.wall, in: Fixture.berlin))
        board.run(hours: 24)
        #expect(board.ledgers[0].averageDailyConsumption(window: 14) == 96)
        #expect(abs(board.ledgers[0].dailyConsumedTotal - board.ledgers[0].consumedTotal) < 1e-9)
    }
}
