import Foundation
import ReplenishCore
import Synchronization
import Testing
@testable import ReplenishAgent
import ReplenishTestSupport

@Suite("Clock trust from the kernel")
struct ClockTrustTests {
    @Test("KernelClockTrust asks adjtimex and answers without crashing (the value depends on this machine)")
    func kernel() {
        let trust = KernelClockTrust()
        let synchronized: Bool = trust.isSynchronized()
        if let (state, status) = KernelClockTrust.query() {
            #expect((0...5).contains(state))
            if let status, status & KernelClockTrust.staUnsync != 0 { #expect(!synchronized) }
        } else {
            #expect(!synchronized)   // not askable: not trusted
        }
    }

    @Test("a board with an RTC is always trusted; without one the kernel decides")
    func forDevice() {
        #expect(KernelClockTrust.forDevice(hasRTC: true).isSynchronized())
        #expect(KernelClockTrust.forDevice(hasRTC: false) is KernelClockTrust)
    }
}

/// What the scheduler asked for, with both clocks at that moment.
private final class ReportLog: Sendable {
    struct Entry: Sendable {
        var reason: ReportReason
        var wall: Date
        var mono: Double
    }

    private let entries = Mutex<[Entry]>([])

    func append(_ reason: ReportReason, _ clock: ManualClock) {
        let entry = Entry(reason: reason, wall: clock.now(), mono: clock.monotonic())
        entries.withLock { $0.append(entry) }
    }

    var all: [Entry] { entries.withLock { $0 } }
    var daily: [Entry] { all.filter { $0.reason == .daily } }
}

/// Runs a `ReportScheduler` on a `ManualClock`, moving time from one wake-up to the next; no real sleeps.
private struct SchedulerRig {
    static let hour = 3_600.0
    static let day = 86_400.0
    let clock: ManualClock
    let trust: ManualClockTrust
    let log = ReportLog()
    let task: Task<Void, Never>
    let startMono: Double

    init(start: Date, trusted: Bool, every: Double? = nil, dailyAt: String = "03:00") {
        clock = ManualClock(now: start, monotonic: 0)
        trust = ManualClockTrust(trusted)
        startMono = clock.monotonic()
        let scheduler = ReportScheduler(
            settings: ReportSettings(dailyAt: TimeOfDay(parsing: dailyAt)!, everySeconds: every),
            clock: clock, zone: ClockFixture.berlin, trust: trust)
        let (clock, log) = (clock, log)
        task = Task { await scheduler.run { log.append($0, clock) } }
    }

    /// Waits until the scheduler is parked on the clock.
    func parked() async throws {
        for _ in 0..<200_000 {
            if clock.sleeperCount == 1 { return }
            await Task.yield()
        }
        Issue.record("scheduler never parked")
        throw CancellationError()
    }

    /// Lets `seconds` of time pass, waking the scheduler at each of its deadlines.
    func run(_ seconds: Double) async throws {
        let end = clock.monotonic() + seconds
        try await parked()
        while clock.monotonic() < end {
            let step = min(clock.timeUntilNextWake ?? .infinity, end - clock.monotonic())
            clock.advance(by: step)
            try await parked()
        }
    }

    func stop() async {
        task.cancel()
        await task.value
    }

    /// Monotonic gaps between consecutive daily reports, counting from the start.
    var dailyGaps: [Double] {
        let marks = [startMono] + log.daily.map(\.mono)
        return zip(marks.dropFirst(), marks).map { $0 - $1 }
    }
}

/// Zones and instants, as in the Core tests.
private enum ClockFixture {
    static let berlin = LocalZone.berlin

    static func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12, _ minute: Int = 0) -> Date {
        berlin.date(year, month, day, hour, minute)
    }
}

@Suite("ClockTrust: report schedule when the wall clock cannot be trusted or jumps", .serialized)
struct ClockTrustSchedulerTests {
    fileprivate typealias Rig = SchedulerRig

    @Test("trusted: one daily report per local day at daily_at, DST days included",
          arguments: [ClockFixture.local(2026, 5, 4), ClockFixture.local(2026, 10, 20), ClockFixture.local(2026, 3, 25)])
    func oneDailyPerDay(_ start: Date) async throws {
        let rig = Rig(start: start, trusted: true)
        try await rig.run(10 * Rig.day)
        await rig.stop()
        #expect(rig.log.all.first?.reason == .startup)
        let daily = rig.log.daily
        #expect(daily.count == 10)
        let days = daily.map { DayKey($0.wall, in: ClockFixture.berlin) }
        #expect(Set(days).count == days.count)
        for entry in daily {
            let c = ClockFixture.berlin.localTime(entry.wall)
            #expect(c.hour == 3 && c.minute == 0 && c.second == 0, "\(Timestamp.string(entry.wall))")
        }
        #expect(rig.log.all.allSatisfy { $0.reason != .periodic })
    }

    /// Hours after a 12:00 start: just before the 03:00 daily, just after it, mid-day, before the next.
    static let jumpMoments: [Double] = [14.983_333, 15.016_667, 26, 38.983_333]
    /// A year back exactly, and a year back less two minutes.
    static let backJumps: [Double] = [-31_536_000, -31_535_880]

    @Test("a back jump of a year does not silence daily reports: one at least every 24 h of monotonic time",
          arguments: jumpMoments, backJumps)
    func backJump(afterHours: Double, jump: Double) async throws {
        let rig = Rig(start: ClockFixture.local(2026, 5, 4), trusted: true, every: 6 * Rig.hour)
        try await rig.run(afterHours * Rig.hour)
        rig.clock.jumpWall(by: jump)
        try await rig.run(6 * Rig.day)
        await rig.stop()
        #expect(rig.log.daily.count >= 6)
        #expect(rig.dailyGaps.allSatisfy { $0 <= Rig.day + 1 }, "gaps \(rig.dailyGaps.map { $0 / Rig.hour })")
        // Periodic reports keep to the monotonic clock: every one falls on a multiple of 6 h.
        for entry in rig.log.all where entry.reason == .periodic {
            let periods = (entry.mono - rig.startMono) / (6 * Rig.hour)
            #expect(abs(periods - periods.rounded()) < 1e-9)
        }
    }

    @Test("daily_at 02:30 on the autumn DST day: one report that day, even when a clock step re-anchors the schedule between the two 02:30s")
    func repeatedHourOnce() async throws {
        let rig = Rig(start: ClockFixture.local(2026, 10, 24), trusted: true, dailyAt: "02:30")
        // 12:00 CEST to 02:36 CEST: just after the first 02:30; then NTP steps the clock 10 minutes on.
        try await rig.run(14.6 * Rig.hour)
        #expect(rig.log.daily.count == 1)
        rig.clock.jumpWall(by: 600)
        try await rig.run(Rig.day)
        await rig.stop()
        // The step re-anchors the schedule; the repeated 02:30 (CET) must not count as a new day.
        let days = rig.log.daily.map { DayKey($0.wall, in: ClockFixture.berlin) }
        #expect(days.filter { $0 == DayKey(year: 2026, month: 10, day: 25) }.count == 1,
                "\(rig.log.daily.map { Timestamp.string($0.wall) })")
        #expect(days.contains(DayKey(year: 2026, month: 10, day: 26)))
    }

    @Test("a forward jump of 3 years fires no burst of daily reports")
    func forwardJump() async throws {
        let rig = Rig(start: ClockFixture.local(2026, 5, 4), trusted: true)
        try await rig.run(20 * Rig.hour)
        #expect(rig.log.daily.count == 1)
        let jumpedAt = rig.clock.monotonic()
        rig.clock.jumpWall(by: 1_096 * Rig.day)
        try await rig.run(Rig.hour)
        #expect(rig.log.daily.count == 1, "the jump itself asks for nothing")
        try await rig.run(4 * Rig.day)
        await rig.stop()
        let after = rig.log.daily.filter { $0.mono > jumpedAt }
        #expect(after.count <= 5)
        #expect(after.count >= 4)
        #expect(rig.dailyGaps.allSatisfy { $0 <= Rig.day + 1 })
        // Once settled, dailies are at 03:00 of the new wall time again.
        let last = try #require(after.last)
        #expect(ClockFixture.berlin.localTime(last.wall).hour == 3)
        #expect(ClockFixture.berlin.localTime(last.wall).year == 2029)
    }

    @Test("report.every: a periodic report every period of monotonic time from the start; none without a period",
          arguments: [Double?.some(6 * 3600), nil])
    func periodic(every: Double?) async throws {
        let rig = Rig(start: ClockFixture.local(2026, 5, 4), trusted: true, every: every)
        try await rig.run(2 * Rig.day + Rig.hour)
        await rig.stop()
        let periods = rig.log.all.filter { $0.reason == .periodic }.map { ($0.mono - rig.startMono) / (6 * Rig.hour) }
        guard every != nil else {
            #expect(periods.isEmpty)
            return
        }
        // 6, 12, ... 48 h; none fall on the 03:00 daily reports, which would cover them.
        #expect(periods.map { $0.rounded() } == [1, 2, 3, 4, 5, 6, 7, 8])
        #expect(periods.allSatisfy { abs($0 - $0.rounded()) < 1e-9 })
    }

    @Test("never synchronized (1970): a daily report every 24 h of monotonic time")
    func neverSynchronized() async throws {
        let rig = Rig(start: Date(timeIntervalSince1970: 0), trusted: false)
        try await rig.run(5 * Rig.day + Rig.hour)
        await rig.stop()
        #expect(rig.dailyGaps == [Rig.day, Rig.day, Rig.day, Rig.day, Rig.day])
    }

    @Test("trust arriving after a 1970 boot: daily reports move to daily_at, one per local day")
    func trustArrives() async throws {
        let rig = Rig(start: Date(timeIntervalSince1970: 0), trusted: false)
        try await rig.run(2 * Rig.hour)
        rig.clock.setWall(ClockFixture.local(2026, 5, 4, 10))
        rig.trust.set(true)
        try await rig.run(3 * Rig.day)
        await rig.stop()
        let daily = rig.log.daily
        #expect(daily.count == 3)
        #expect(daily.allSatisfy { ClockFixture.berlin.localTime($0.wall).hour == 3 })
        #expect(Set(daily.map { DayKey($0.wall, in: ClockFixture.berlin) }).count == 3)
        #expect(rig.dailyGaps.allSatisfy { $0 <= Rig.day + 1 })
    }

    @Test("an idle scheduler looks at the clocks at least every 15 minutes, and not much more often")
    func bounded() async throws {
        let rig = Rig(start: ClockFixture.local(2026, 5, 4), trusted: true)
        try await rig.parked()
        var wakes = 0
        let end = rig.clock.monotonic() + 6 * SchedulerRig.hour
        while rig.clock.monotonic() < end {
            let step = try #require(rig.clock.timeUntilNextWake)
            #expect(step <= 900)
            rig.clock.advance(by: step)
            wakes += 1
            try await rig.parked()
        }
        await rig.stop()
        #expect(wakes <= 6 * 4 + 1)
    }
}
