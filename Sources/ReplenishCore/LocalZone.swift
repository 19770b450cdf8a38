import FoundationEssentials

/// A time zone read from the system's zoneinfo (TZif files, POSIX TZ rules), UTC or a fixed
/// offset: the zone of day boundaries and of `daily_at`, without ICU (FoundationEssentials'
/// `TimeZone` knows only GMT and fixed offsets).
///
/// Civil arithmetic is proleptic Gregorian. A local date-time that does not exist (skipped by a
/// forward change) resolves to the next valid instant: the instant of the change. One that exists
/// twice (a backward change) resolves to its first occurrence.
public struct LocalZone: Sendable, Equatable, CustomStringConvertible {
    /// The identifier (`Europe/Berlin`, `UTC`), the TZ string or the file it came from.
    public let name: String
    /// Instants (seconds since 1970) at which the offset changes, ascending.
    let transitions: [Int64]
    /// The offset (seconds east of UTC) from `transitions[i]` on.
    let offsets: [Int32]
    /// The offset before the first transition, or always when there is neither transition nor rule.
    let initialOffset: Int32
    /// Offsets after the last transition (a TZif footer), or always when there are no transitions.
    let rule: PosixZoneRule?

    init(name: String, transitions: [Int64], offsets: [Int32], initialOffset: Int32, rule: PosixZoneRule?) {
        self.name = name
        self.transitions = transitions
        self.offsets = offsets
        self.initialOffset = initialOffset
        self.rule = rule
    }

    public var description: String { name }

    /// Coordinated Universal Time.
    public static let utc = LocalZone(name: "UTC", transitions: [], offsets: [], initialOffset: 0, rule: nil)

    /// A fixed offset east of UTC, in seconds (at most 26 hours either way).
    public static func fixed(seconds: Int, name: String? = nil) -> LocalZone? {
        guard abs(seconds) <= 26 * 3_600 else { return nil }
        return LocalZone(name: name ?? Self.offsetName(seconds), transitions: [], offsets: [],
                         initialOffset: Int32(seconds), rule: nil)
    }

    /// The offset from UTC at `date`, in seconds east of UTC.
    public func offset(at date: Date) -> Int {
        offset(atSecond: Self.second(of: date))
    }

    /// The whole second of `date` since 1970, within a million years either way (so that no date,
    /// however far or non-finite, traps in the arithmetic).
    static func second(of date: Date) -> Int64 {
        let limit = 3.2e13
        let seconds = date.timeIntervalSince1970
        guard !seconds.isNaN else { return 0 }
        return Int64(min(max(seconds, -limit), limit).rounded(.down))
    }

    func offset(atSecond t: Int64) -> Int {
        if let last = transitions.last, t >= last {
            return rule?.offset(atSecond: t) ?? Int(offsets[offsets.count - 1])
        }
        if transitions.isEmpty { return rule?.offset(atSecond: t) ?? Int(initialOffset) }
        if t < transitions[0] { return Int(initialOffset) }
        // The last transition at or before t.
        var low = 0, high = transitions.count - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if transitions[mid] <= t { low = mid } else { high = mid - 1 }
        }
        return Int(offsets[low])
    }

    // MARK: Civil time

    /// The local date and time of `date`.
    public func localTime(_ date: Date) -> LocalTime {
        let t = Self.second(of: date)
        return LocalTime(localSeconds: t + Int64(offset(atSecond: t)))
    }

    /// The instant `time` occurs at in this zone. A time skipped by a forward change resolves to
    /// the instant of the change (the first valid instant after it); a repeated time to its first
    /// occurrence. `time.month` must be 1...12; a day, hour, minute or second out of its range
    /// carries over (day 32 of January is February 1).
    public func date(of time: LocalTime) -> Date {
        Date(timeIntervalSince1970: Double(instant(localSeconds: time.localSeconds)))
    }

    /// The instant `day` starts at: its midnight, or the first instant of the day when midnight is skipped.
    public func start(of day: DayKey) -> Date {
        date(of: LocalTime(year: day.year, month: day.month, day: day.day))
    }

    /// The first UTC second whose local time is `l` or later (with the policy of `date(of:)`).
    func instant(localSeconds l: Int64) -> Int64 {
        let day: Int64 = 86_400
        let around = [offset(atSecond: l - day), offset(atSecond: l + day)]
        var candidates = around
        for o in around { candidates.append(offset(atSecond: l - Int64(o))) }
        let valid = candidates.filter { offset(atSecond: l - Int64($0)) == $0 }
        if let largest = valid.max() { return l - Int64(largest) }
        // Skipped: before the change, instants show local times before l; from it on, after l.
        // Find the change: the first instant whose local time is past l.
        var low = l - Int64(around.max()!)  // local time there is before l
        var high = l - Int64(around.min()!)  // local time there is after l
        if low > high { swap(&low, &high) }
        while high - low > 1 {
            let mid = low + (high - low) / 2
            if mid + Int64(offset(atSecond: mid)) > l { high = mid } else { low = mid }
        }
        return high
    }

    static func offsetName(_ seconds: Int) -> String {
        if seconds == 0 { return "UTC" }
        let magnitude = abs(seconds)
        let hm = LocalTime.pad(magnitude / 3_600) + ":" + LocalTime.pad(magnitude / 60 % 60)
        let s = magnitude % 60 == 0 ? "" : ":" + LocalTime.pad(magnitude % 60)
        return "UTC" + (seconds < 0 ? "-" : "+") + hm + s
    }
}

/// A local (civil) date and time, proleptic Gregorian, to the second.
public struct LocalTime: Sendable, Hashable, CustomStringConvertible {
    public var year: Int
    public var month: Int
    public var day: Int
    public var hour: Int
    public var minute: Int
    public var second: Int

    public init(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }

    /// Seconds since 1970-01-01 00:00 of the same calendar (local time taken as if it were UTC).
    init(localSeconds s: Int64) {
        let days = s >= 0 ? s / 86_400 : (s - 86_399) / 86_400
        let rest = Int(s - days * 86_400)
        let (y, m, d) = Self.civil(fromDays: days)
        self.init(year: y, month: m, day: d, hour: rest / 3_600, minute: rest / 60 % 60, second: rest % 60)
    }

    /// Seconds since 1970-01-01 00:00 of the same calendar; out-of-range fields carry over.
    var localSeconds: Int64 {
        Self.days(year: year, month: month, day: day) * 86_400 + Int64(hour * 3_600 + minute * 60 + second)
    }

    public var dayKey: DayKey { DayKey(year: year, month: month, day: day) }

    /// 0 for Sunday through 6 for Saturday.
    public var weekday: Int {
        let w = (Self.days(year: year, month: month, day: day) + 4) % 7
        return Int(w < 0 ? w + 7 : w)
    }

    /// `Mon`, `Tue`, … (English, as `EEE` in the POSIX locale).
    public var weekdayAbbreviation: String { ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"][weekday] }

    /// `Jan`, `Feb`, … (English, as `MMM` in the POSIX locale).
    public var monthAbbreviation: String {
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][month - 1]
    }

    /// `HH:mm`.
    public var hourMinute: String { Self.pad(hour) + ":" + Self.pad(minute) }

    /// `yyyy-MM-dd HH:mm:ss`.
    public var description: String { dayKey.description + " " + hourMinute + ":" + Self.pad(second) }

    static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    /// Days since 1970-01-01 of a proleptic Gregorian date (month 1...12; a day past the month's
    /// end carries over). After Howard Hinnant's `days_from_civil`.
    static func days(year: Int, month: Int, day: Int) -> Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = Int64((month + 9) % 12)
        let doy = (153 * mp + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01. After Howard Hinnant's `civil_from_days`.
    static func civil(fromDays days: Int64) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (Int(yoe + era * 400 + (m <= 2 ? 1 : 0)), Int(m), Int(d))
    }

    static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }
}
