import FoundationEssentials

/// When the daily status report falls due: at a local time (the scheduler adds the optional
/// fixed period on the monotonic clock).
public struct ReportSchedule: Sendable, Equatable {
    public var dailyAt: TimeOfDay

    public init(dailyAt: TimeOfDay) {
        self.dailyAt = dailyAt
    }

    /// The first daily report time strictly after `date`, in `zone`.
    /// A local time that does not exist that day (skipped by DST) moves to the next valid instant;
    /// one that occurs twice (autumn DST) counts once, at its first occurrence: asked after it,
    /// the answer is the next day's.
    public func nextDaily(after date: Date, zone: LocalZone) -> Date {
        var day = DayKey(date, in: zone)
        // Today's time, else tomorrow's (the day after only if a zone skips a whole day).
        while true {
            let at = zone.date(of: LocalTime(year: day.year, month: day.month, day: day.day,
                                             hour: dailyAt.hour, minute: dailyAt.minute))
            if at > date { return at }
            day = day.next()
        }
    }
}
