import Foundation

/// When the daily status report falls due: at a local time (the scheduler adds the optional
/// fixed period on the monotonic clock).
public struct ReportSchedule: Sendable, Equatable {
    public var dailyAt: TimeOfDay

    public init(dailyAt: TimeOfDay) {
        self.dailyAt = dailyAt
    }

    /// The first daily report time strictly after `date`, in `calendar`'s time zone.
    /// A local time that does not exist that day (skipped by DST) moves to the next valid instant;
    /// one that occurs twice (autumn DST) counts once, at its first occurrence.
    public func nextDaily(after date: Date, calendar: Calendar) -> Date {
        let next = occurrence(after: date, calendar: calendar)
        // Asked after the first of two occurrences, Foundation answers the second one, although
        // `.first` says otherwise: that day's report is then already out, so take tomorrow's.
        let firstThatDay = occurrence(after: calendar.startOfDay(for: next).addingTimeInterval(-1), calendar: calendar)
        return firstThatDay < next ? occurrence(after: next, calendar: calendar) : next
    }

    private func occurrence(after date: Date, calendar: Calendar) -> Date {
        let components = DateComponents(hour: dailyAt.hour, minute: dailyAt.minute, second: 0)
        return calendar.nextDate(after: date, matching: components, matchingPolicy: .nextTime,
                                 repeatedTimePolicy: .first, direction: .forward)!
    }
}
