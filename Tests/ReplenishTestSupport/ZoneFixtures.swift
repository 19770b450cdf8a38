import FoundationEssentials
import ReplenishCore

extension LocalZone {
    /// Europe/Berlin from the system's zoneinfo: the zone most tests take their days in.
    public static let berlin = LocalZone(identifier: "Europe/Berlin")!

    /// The instant of a local date and time in this zone (`date(of:)`'s policy for skipped and repeated times).
    public func date(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0,
                     _ second: Int = 0) -> Date {
        date(of: LocalTime(year: year, month: month, day: day, hour: hour, minute: minute, second: second))
    }

    /// `date` moved by whole local days and years, at the same local time (what Foundation's
    /// `Calendar.date(byAdding:value:to:)` does, but February 29 plus a year is March 1).
    public func adding(days: Int = 0, years: Int = 0, to date: Date) -> Date {
        var local = localTime(date)
        local.year += years
        local.day += days
        return self.date(of: local)
    }
}
