import FoundationEssentials

/// A POSIX TZ rule (`CET-1CEST,M3.5.0,M10.5.0/3`, `<+0545>-5:45`, `AEST-10AEDT,M10.1.0,M4.1.0/3`):
/// the `TZ` variable's format and the footer of TZif files, which gives the offsets after the last
/// transition (all of them, in "slim" files). Offsets here are seconds east of UTC (POSIX writes
/// them west: `CET-1` is UTC+1). Without a rule after the daylight-saving name, the US rule of
/// glibc applies (`M3.2.0,M11.1.0`). Times after a date may be negative or past 24 hours (RFC 8536).
struct PosixZoneRule: Sendable, Equatable {
    var standardOffset: Int
    var daylight: Daylight?

    struct Daylight: Sendable, Equatable {
        var offset: Int
        /// When daylight-saving time starts (local standard time) and ends (local daylight time).
        var start: Change
        var end: Change
    }

    struct Change: Sendable, Equatable {
        enum Day: Sendable, Equatable {
            /// `Jn`: 1...365, February 29 never counted.
            case julian(Int)
            /// `n`: 0...365, February 29 counted.
            case zeroBased(Int)
            /// `Mm.w.d`: weekday d (0 = Sunday) of week w (5 = the last) of month m.
            case monthWeek(month: Int, week: Int, weekday: Int)
        }

        var day: Day
        /// Seconds after the day's local midnight.
        var time: Int

        /// Days since 1970 of the change's date in `year`.
        func days(in year: Int) -> Int64 {
            let january1 = LocalTime.days(year: year, month: 1, day: 1)
            switch day {
            case .julian(let n):
                return january1 + Int64(n - 1) + (LocalTime.isLeap(year) && n >= 60 ? 1 : 0)
            case .zeroBased(let n):
                return january1 + Int64(n)
            case let .monthWeek(month, week, weekday):
                let first = LocalTime.days(year: year, month: month, day: 1)
                let firstWeekday = Int(((first + 4) % 7 + 7) % 7)
                var d = first + Int64((weekday - firstWeekday + 7) % 7 + (week - 1) * 7)
                let nextMonth = month == 12 ? LocalTime.days(year: year + 1, month: 1, day: 1)
                    : LocalTime.days(year: year, month: month + 1, day: 1)
                while d >= nextMonth { d -= 7 }
                return d
            }
        }
    }

    func offset(atSecond t: Int64) -> Int {
        guard let dst = daylight else { return standardOffset }
        let year = LocalTime(localSeconds: t + Int64(standardOffset)).year
        let start = dst.start.days(in: year) * 86_400 + Int64(dst.start.time - standardOffset)
        let end = dst.end.days(in: year) * 86_400 + Int64(dst.end.time - dst.offset)
        let inDaylight = start < end ? (start <= t && t < end) : !(end <= t && t < start)
        return inDaylight ? dst.offset : standardOffset
    }

    // MARK: Parsing

    /// Parses a whole TZ string; nil when it is not one.
    init?(_ text: String) {
        var p = Parser(Array(text.utf8))
        guard p.name(), let std = p.offset() else { return nil }
        standardOffset = -std
        if p.atEnd { daylight = nil; return }
        guard p.name() else { return nil }
        var dstOffset = standardOffset + 3_600
        if !p.atEnd, p.peek != UInt8(ascii: ",") {
            guard let o = p.offset() else { return nil }
            dstOffset = -o
        }
        let start: Change, end: Change
        if p.atEnd {
            start = Change(day: .monthWeek(month: 3, week: 2, weekday: 0), time: 7_200)
            end = Change(day: .monthWeek(month: 11, week: 1, weekday: 0), time: 7_200)
        } else {
            guard p.take(","), let s = p.change(), p.take(","), let e = p.change(), p.atEnd else { return nil }
            start = s
            end = e
        }
        daylight = Daylight(offset: dstOffset, start: start, end: end)
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        var atEnd: Bool { i == bytes.count }
        var peek: UInt8? { atEnd ? nil : bytes[i] }

        mutating func take(_ c: Character) -> Bool {
            guard let b = peek, b == c.asciiValue else { return false }
            i += 1
            return true
        }

        /// `<…>` (letters, digits, + and -) or at least three letters.
        mutating func name() -> Bool {
            let begin = i
            if take("<") {
                while let b = peek, b != UInt8(ascii: ">") {
                    guard isAlpha(b) || isDigit(b) || b == UInt8(ascii: "+") || b == UInt8(ascii: "-") else { return false }
                    i += 1
                }
                return i - begin >= 4 && take(">")
            }
            while let b = peek, isAlpha(b) { i += 1 }
            return i - begin >= 3
        }

        /// `[+-]hh[:mm[:ss]]` as written (seconds west of UTC for an offset).
        mutating func offset(maxHours: Int = 24) -> Int? {
            var sign = 1
            if take("-") { sign = -1 } else { _ = take("+") }
            guard let h = number(maxDigits: 3), h <= maxHours else { return nil }
            var seconds = h * 3_600
            if take(":") {
                guard let m = number(maxDigits: 2), m < 60 else { return nil }
                seconds += m * 60
                if take(":") {
                    guard let s = number(maxDigits: 2), s < 60 else { return nil }
                    seconds += s
                }
            }
            return sign * seconds
        }

        /// A date with an optional `/time` (default 02:00).
        mutating func change() -> Change? {
            let day: Change.Day
            if take("J") {
                guard let n = number(maxDigits: 3), (1...365).contains(n) else { return nil }
                day = .julian(n)
            } else if take("M") {
                guard let m = number(maxDigits: 2), (1...12).contains(m), take("."),
                      let w = number(maxDigits: 1), (1...5).contains(w), take("."),
                      let d = number(maxDigits: 1), (0...6).contains(d) else { return nil }
                day = .monthWeek(month: m, week: w, weekday: d)
            } else {
                guard let n = number(maxDigits: 3), (0...365).contains(n) else { return nil }
                day = .zeroBased(n)
            }
            var time = 7_200
            if take("/") {
                guard let t = offset(maxHours: 167) else { return nil }
                time = t
            }
            return Change(day: day, time: time)
        }

        mutating func number(maxDigits: Int) -> Int? {
            var value = 0, digits = 0
            while let b = peek, isDigit(b), digits < maxDigits {
                value = value * 10 + Int(b - UInt8(ascii: "0"))
                digits += 1
                i += 1
            }
            return digits == 0 ? nil : value
        }

        private func isAlpha(_ b: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(b) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(b)
        }

        private func isDigit(_ b: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b) }
    }
}
