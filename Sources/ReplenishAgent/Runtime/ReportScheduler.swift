import FoundationEssentials
import ReplenishCore

/// Emits report deadlines: one at start-up, one a day, and one every `every`.
///
/// - Daily reports fall at `daily_at` local time while the wall clock is trusted.
/// - Whatever the wall clock does, a daily report goes out at least once per 24 h of monotonic
///   time. The one exception keeps the schedule from doubling reports: while the schedule runs
///   undisturbed (the last daily report was a scheduled one, no jump or loss of trust since), the
///   next scheduled report is waited for when it falls at most a local day (25 h on a DST fall-back
///   day; a few seconds over 24 h while NTP slews) after the previous one. So a board that never
///   synchronizes still reports daily, and a back jump of a year does not silence it.
/// - A wall-clock jump (wall and monotonic time disagreeing by more than `tolerance`) re-anchors
///   the daily schedule on the new wall time: a forward jump fires no burst of missed dailies.
/// - Periodic reports run on the monotonic clock; when several periods were missed, one report.
/// - It waits on the monotonic clock, never longer than `maxSleep`, so a wall-clock step is
///   noticed within that much time.
/// - The start-up report is due at once; the keeper holds it until every slot has been read, and
///   `startupWait` after the start the scheduler says the wait is over (`startupWaitOver`).
struct ReportScheduler: Sendable {
    let settings: ReportSettings
    let clock: any AgentClock
    let zone: LocalZone
    let trust: any ClockTrust
    /// Longest wait between two looks at the clocks.
    let maxSleep: Double
    /// Wall and monotonic clocks may disagree by this much before it counts as a jump.
    let tolerance: Double
    /// Seconds after the start at which a start-up report still waiting for readings goes out.
    let startupWait: Double

    static let day: Double = 86_400
    /// A local day lasts at most 25 hours (DST fall-back).
    static let longestDay: Double = 25 * 3_600

    /// `trust` defaults to trusting the wall clock (the behaviour before clock trust existed); the
    /// agent passes `KernelClockTrust.forDevice(hasRTC:)`.
    init(settings: ReportSettings, clock: any AgentClock, zone: LocalZone,
         trust: any ClockTrust = FixedClockTrust(true), maxSleep: Double = 900,
         tolerance: Double = DayAccounting.defaultTolerance, startupWait: Double = 0) {
        self.settings = settings
        self.clock = clock
        self.zone = zone
        self.trust = trust
        self.maxSleep = maxSleep
        self.tolerance = tolerance
        self.startupWait = startupWait
    }

    func run(startupWaitOver: @Sendable () -> Void = {}, _ due: @Sendable (ReportReason) -> Void) async {
        let schedule = ReportSchedule(dailyAt: settings.dailyAt)
        var lastWall = clock.now()
        var lastMono = clock.monotonic()
        if settings.onStart { due(.startup) }
        var startupDeadline = settings.onStart ? lastMono + startupWait : nil
        // The start counts as the last daily report for the 24-hour guarantee.
        var lastDailyMono = lastMono
        var nextDaily: Date? = nil
        // The last daily report was a scheduled one and the schedule has not been disturbed since.
        var steady = false
        var nextPeriodic = settings.everySeconds.map { lastMono + $0 }

        while !Task.isCancelled {
            let trusted = trust.isSynchronized()
            let wall = clock.now()
            let mono = clock.monotonic()
            let jumped = abs(wall.timeIntervalSince(lastWall) - (mono - lastMono)) > tolerance
            lastWall = wall
            lastMono = mono
            if !trusted || jumped { nextDaily = nil; steady = false }
            if trusted, nextDaily == nil { nextDaily = schedule.nextDaily(after: wall, zone: zone) }

            var dailySent = false
            if let scheduled = nextDaily, wall >= scheduled {
                due(.daily)
                dailySent = true
                nextDaily = schedule.nextDaily(after: wall, zone: zone)
                steady = true
            } else if mono >= guarantee(lastDaily: lastDailyMono, mono: mono, wall: wall, nextDaily: steady ? nextDaily : nil) {
                due(.daily)
                dailySent = true
                steady = false
            }
            if dailySent { lastDailyMono = mono }
            if let deadline = startupDeadline, mono >= deadline {
                startupWaitOver()
                startupDeadline = nil
            }

            if let every = settings.everySeconds, let periodic = nextPeriodic, mono >= periodic {
                // The daily report covers a periodic one falling due at the same moment.
                if !dailySent { due(.periodic) }
                let missed = ((mono - periodic) / every).rounded(.down)
                nextPeriodic = periodic + (missed + 1) * every
            }

            let deadline = guarantee(lastDaily: lastDailyMono, mono: mono, wall: wall, nextDaily: steady ? nextDaily : nil)
            var wait = min(maxSleep, deadline - mono)
            if let scheduled = nextDaily { wait = min(wait, scheduled.timeIntervalSince(wall)) }
            if let periodic = nextPeriodic { wait = min(wait, periodic - mono) }
            if let deadline = startupDeadline { wait = min(wait, deadline - mono) }
            do { try await clock.sleep(for: max(wait, 0.001)) } catch { return }
        }
    }

    /// The monotonic instant by which a daily report must go out: 24 h after the last one, or
    /// just after `nextDaily` (given only while the schedule is steady) when that falls at most a
    /// (25-hour) local day after it.
    private func guarantee(lastDaily: Double, mono: Double, wall: Date, nextDaily: Date?) -> Double {
        var deadline = lastDaily + Self.day
        if let scheduled = nextDaily {
            let scheduledMono = mono + scheduled.timeIntervalSince(wall)
            if scheduledMono <= lastDaily + Self.longestDay + tolerance {
                deadline = max(deadline, scheduledMono + tolerance)
            }
        }
        return deadline
    }
}
