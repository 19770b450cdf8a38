import Foundation
import ReplenishCore

/// Emits report deadlines: one at start-up, one a day at `daily_at`, and one every `every`.
struct ReportScheduler: Sendable {
    let settings: ReportSettings
    let clock: any AgentClock
    let calendar: Calendar

    func run(_ due: @Sendable (ReportReason) -> Void) async {
        let schedule = ReportSchedule(dailyAt: settings.dailyAt, everySeconds: settings.everySeconds)
        let start = clock.now()
        if settings.onStart { due(.startup) }
        var nextDaily = schedule.nextDaily(after: start, calendar: calendar)
        var nextPeriodic = schedule.nextPeriodic(after: start)
        while !Task.isCancelled {
            let deadline = min(nextDaily, nextPeriodic ?? .distantFuture)
            do { try await clock.sleep(until: deadline) } catch { return }
            let now = clock.now()
            if now >= nextDaily {
                due(.daily)
                nextDaily = schedule.nextDaily(after: now, calendar: calendar)
                // The daily report covers a periodic one falling due at the same moment.
                if let periodic = nextPeriodic, periodic <= now { nextPeriodic = schedule.nextPeriodic(after: periodic) }
            } else if let periodic = nextPeriodic, now >= periodic {
                due(.periodic)
                nextPeriodic = schedule.nextPeriodic(after: periodic)
            }
        }
    }
}
