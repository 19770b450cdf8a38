import Foundation
import Glibc
import Synchronization
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

/// glibc's own reading of a zone: `localtime_r` with `TZ` set to `spec`. `TZ` is process-wide, so
/// the calls hold a lock and put the previous value back before they return.
enum GlibcZone {
    private static let lock = Mutex(())

    struct Local: Equatable, CustomStringConvertible {
        var time: LocalTime
        var offset: Int
        var description: String { "\(time) \(offset)" }
    }

    /// Runs `body` with `TZ=spec`, giving it glibc's local time and offset of an instant.
    static func with<T>(_ spec: String, _ body: ((Int64) -> Local) -> T) -> T {
        lock.withLock { _ in
            let previous = getenv("TZ").map { String(cString: $0) }
            setenv("TZ", spec, 1)
            tzset()
            defer {
                if let previous { setenv("TZ", previous, 1) } else { unsetenv("TZ") }
                tzset()
            }
            return body { t in
                var seconds = time_t(t)
                var parts = tm()
                _ = localtime_r(&seconds, &parts)
                return Local(time: LocalTime(year: Int(parts.tm_year) + 1900, month: Int(parts.tm_mon) + 1,
                                             day: Int(parts.tm_mday), hour: Int(parts.tm_hour),
                                             minute: Int(parts.tm_min), second: Int(parts.tm_sec)),
                             offset: parts.tm_gmtoff)
            }
        }
    }

    /// Instants from 1970 to 2100 under `TZ=spec`: one a day (at a time of day that wanders), and
    /// the second before, of, after and an hour either side of every offset change glibc sees;
    /// with glibc's local time of each.
    static func sample(_ spec: String) -> (instants: [Int64], local: [Local], changes: [Int64]) {
        with(spec) { local in
            let end: Int64 = 4_102_444_800  // 2100-01-01
            var daily: [Int64] = []
            var t: Int64 = 0
            while t < end {
                daily.append(t)
                t += 86_400 + 3_607
            }
            let offsets = daily.map { local($0).offset }
            var changes: [Int64] = []
            for k in 1..<daily.count where offsets[k] != offsets[k - 1] {
                // Bisect for the first second of the new offset.
                var low = daily[k - 1], high = daily[k]
                while high - low > 1 {
                    let mid = low + (high - low) / 2
                    if local(mid).offset == offsets[k - 1] { low = mid } else { high = mid }
                }
                changes.append(high)
            }
            let instants = daily + changes.flatMap { [$0 - 3_600, $0 - 1, $0, $0 + 1, $0 + 3_600] }
            return (instants, instants.map(local), changes)
        }
    }
}

@Suite("LocalZone against glibc's localtime_r, 1970 to 2100")
struct LocalZoneGlibcTests {
    static let zones = ["Europe/Berlin", "America/New_York", "Australia/Sydney", "America/Sao_Paulo",
                        "Asia/Kathmandu", "Asia/Kolkata", "Australia/Lord_Howe", "UTC", "Pacific/Chatham"]

    /// TZ rules, as in the `TZ` variable and the footer of zone files ("slim" files rely on it alone).
    static let rules = ["CET-1CEST,M3.5.0,M10.5.0/3", "<+0545>-5:45", "AEST-10AEDT,M10.1.0,M4.1.0/3",
                        "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0", "<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45",
                        "EST5EDT4,M3.2.0/2,M11.1.0/2", "<-03>3", "IST-5:30", "XXX3YYY,J60/1,300/-1",
                        "<-02>2<-01>,M3.5.0/-1,M10.5.0/0"]

    @Test("offset and local time at every instant agree with glibc", arguments: zones)
    func named(_ name: String) throws {
        let zone = try #require(LocalZone(identifier: name))
        // Kathmandu moved from +05:30 to +05:45 once (1986); Brazil ended DST in 2019.
        let minimum = ["UTC": 0, "Asia/Kolkata": 0, "Asia/Kathmandu": 1, "America/Sao_Paulo": 50][name] ?? 100
        try compare(zone, glibc: ":" + name, minimumChanges: minimum)
    }

    @Test("a TZ rule alone agrees with glibc", arguments: rules)
    func rule(_ spec: String) throws {
        let zone = LocalZone.system(tz: spec, directory: "/nonexistent")
        #expect(zone.name == spec)
        try compare(zone, glibc: spec, minimumChanges: spec.contains(",") ? 100 : 0)
    }

    @Test("a slim zone file (no transitions, only the footer) agrees with glibc on its rule")
    func slimFile() throws {
        let zone = try #require(LocalZone(tzif: LocalZoneTests.tzif(version: UInt8(ascii: "2"), transitions: [], v1: [3_600],
                                                                   v2: [3_600], footer: "CET-1CEST,M3.5.0,M10.5.0/3"),
                                                 name: "slim"))
        try compare(zone, glibc: "CET-1CEST,M3.5.0,M10.5.0/3", minimumChanges: 200)
    }

    private func compare(_ zone: LocalZone, glibc spec: String, minimumChanges: Int) throws {
        let (instants, expected, changes) = GlibcZone.sample(spec)
        #expect(changes.count >= minimumChanges, "\(spec): only \(changes.count) changes")
        var mismatches: [String] = []
        for (t, want) in zip(instants, expected) {
            let date = Date(timeIntervalSince1970: Double(t))
            let got = GlibcZone.Local(time: zone.localTime(date), offset: zone.offset(at: date))
            if got != want, mismatches.count < 5 { mismatches.append("\(t): \(got), glibc \(want)") }
        }
        #expect(mismatches.isEmpty, "\(spec): \(mismatches)")
        #expect(instants.count > 45_000)
    }
}

@Suite("LocalZone: civil arithmetic, names and the system's zone")
struct LocalZoneTests {
    @Test("the instant of each sampled local time gives that local time back, at its first occurrence",
          arguments: LocalZoneGlibcTests.zones)
    func roundTrip(_ name: String) throws {
        let zone = try #require(LocalZone(identifier: name))
        var t: Int64 = 0
        while t < 4_102_444_800 {
            let date = Date(timeIntervalSince1970: Double(t))
            let local = zone.localTime(date)
            let back = zone.date(of: local)
            #expect(zone.localTime(back) == local && back <= date && date.timeIntervalSince(back) <= 3 * 3_600,
                    "\(name) \(t): \(local) → \(back)")
            let start = zone.start(of: local.dayKey)
            #expect(zone.localTime(start).dayKey == local.dayKey && start <= date
                    && zone.localTime(start.addingTimeInterval(-1)).dayKey < local.dayKey, "\(name) \(t)")
            t += 86_400 * 3 + 7_777
        }
    }

    @Test("a local time skipped by a forward change resolves to the change; a repeated one to its first occurrence",
          arguments: LocalZoneGlibcTests.zones)
    func gapsAndFolds(_ name: String) throws {
        let zone = try #require(LocalZone(identifier: name))
        let changes = GlibcZone.sample(":" + name).changes
        for change in changes {
            let before = Date(timeIntervalSince1970: Double(change - 1)), at = Date(timeIntervalSince1970: Double(change))
            let jump = zone.offset(at: at) - zone.offset(at: before)
            let lastBefore = zone.localTime(before)
            if jump > 0 {
                // Every local time in the gap, e.g. 02:00:00 to 02:59:59, is the change's instant.
                for skipped in stride(from: 1, through: jump, by: max(1, jump / 7)) {
                    var local = lastBefore
                    local.second += skipped
                    #expect(zone.date(of: local) == at, "\(name): \(local)")
                }
            } else if jump < 0 {
                // The hour before the change comes again after it: the first occurrence wins.
                var local = lastBefore
                local.second -= -jump - 1
                let first = before.addingTimeInterval(Double(jump + 1))
                #expect(zone.date(of: local) == first, "\(name): \(local)")
            }
        }
    }

    @Test("names: IANA names from zoneinfo, UTC, fixed offsets; nothing else", arguments: [
        ("Europe/Berlin", true), ("America/Argentina/Buenos_Aires", true), ("UTC", true), ("GMT", true),
        ("Etc/GMT-14", true), ("UTC+05:30", true), ("GMT-3", true), ("UTC+0545", true),
        ("Europe/Berln", false), ("", false), ("../../etc/passwd", false), ("/etc/localtime", false),
        ("Europe//Berlin", false), ("Europe/./Berlin", false), ("UTC+5:3", false), ("UTC+19", false),
        ("UTC+", false), ("zone.tab", false), ("Europe", false), ("CET-1CEST", false),
    ])
    func names(_ name: String, known: Bool) {
        #expect((LocalZone(identifier: name) != nil) == known, "\(name)")
    }

    @Test("fixed offsets")
    func fixed() throws {
        let zone = try #require(LocalZone(identifier: "UTC+05:30"))
        #expect(zone.offset(at: Fixture.utc(2026, 7, 1)) == 19_800)
        #expect(try #require(LocalZone(identifier: "GMT-3")).offset(at: Fixture.utc(2026, 1, 1)) == -10_800)
        #expect(LocalZone.fixed(seconds: -34_200)?.name == "UTC-09:30")
        #expect(LocalZone.fixed(seconds: 30 * 3_600) == nil)
    }

    @Test("the system's zone: TZ as :Name, Name, a path or a rule; empty or unknown is UTC; unset is /etc/localtime")
    func system() {
        let july = Fixture.utc(2026, 7, 1, 12)
        #expect(LocalZone.system(tz: ":Europe/Berlin").offset(at: july) == 7_200)
        #expect(LocalZone.system(tz: "Europe/Berlin").name == "Europe/Berlin")
        #expect(LocalZone.system(tz: "/usr/share/zoneinfo/Asia/Kathmandu").offset(at: july) == 20_700)
        #expect(LocalZone.system(tz: "CET-1CEST,M3.5.0,M10.5.0/3").offset(at: july) == 7_200)
        #expect(LocalZone.system(tz: "") == .utc)
        #expect(LocalZone.system(tz: "No/Such_Zone") == .utc)
        #expect(LocalZone.system(tz: nil, localtime: "/usr/share/zoneinfo/Australia/Sydney").offset(at: july) == 36_000)
        #expect(LocalZone.system(tz: nil, localtime: "/nonexistent") == .utc)
    }

    @Test("an /etc/localtime linked into zoneinfo gives the zone its name")
    func linkedLocaltime() throws {
        let link = FileManager.default.temporaryDirectory.appendingPathComponent("localtime-\(UUID().uuidString)").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: "/usr/share/zoneinfo/Europe/Berlin")
        defer { try? FileManager.default.removeItem(atPath: link) }
        #expect(LocalZone.system(tz: nil, localtime: link).name == "Europe/Berlin")
        #expect(LocalZone.system(tz: nil, localtime: "/usr/share/zoneinfo/Europe/Berlin").name == "localtime")
    }

    /// A TZif file: a version 1 block with 32-bit times (`v1` offsets), then for version 2 a block
    /// with 64-bit times (`v2` offsets) and the footer. Each type's offset is that of a transition.
    static func tzif(version: UInt8, transitions: [Int64], v1: [Int32], v2: [Int32], footer: String) -> [UInt8] {
        func bigEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] { withUnsafeBytes(of: value.bigEndian, Array.init) }
        func block<T: FixedWidthInteger>(_ time: (Int64) -> T, _ offsets: [Int32]) -> [UInt8] {
            let counts = [0, 0, 0, transitions.count, offsets.count, 4].flatMap { bigEndian(Int32($0)) }
            return Array("TZif".utf8) + [version] + [UInt8](repeating: 0, count: 15) + counts
                + transitions.flatMap { bigEndian(time($0)) } + transitions.indices.map { UInt8($0) }
                + offsets.flatMap { bigEndian($0) + [0, 0] } + Array("ABC\0".utf8)
        }
        let first = block({ Int32($0) }, v1)
        return version == 0 ? first : first + block({ $0 }, v2) + Array("\n\(footer)\n".utf8)
    }

    @Test("the 64-bit block of a version 2 file wins over the 32-bit one; a version 1 file is read as it is")
    func versions() throws {
        let v2 = try #require(LocalZone(tzif: Self.tzif(version: UInt8(ascii: "2"), transitions: [1_000, 2_000],
                                                      v1: [7_200, 0], v2: [3_600, -3_600], footer: "<-01>1"), name: "v2"))
        #expect([999, 1_000, 1_999, 2_000, 5_000_000_000].map { v2.offset(at: Date(timeIntervalSince1970: $0)) }
                == [3_600, 3_600, 3_600, -3_600, -3_600])
        let v1 = try #require(LocalZone(tzif: Self.tzif(version: 0, transitions: [1_000, 2_000], v1: [7_200, 0],
                                                      v2: [], footer: ""), name: "v1"))
        #expect([999, 1_000, 2_000, 5_000_000_000].map { v1.offset(at: Date(timeIntervalSince1970: $0)) }
                == [7_200, 7_200, 0, 0])
        let rule = try #require(LocalZone(tzif: Self.tzif(version: UInt8(ascii: "3"), transitions: [1_000], v1: [0],
                                                        v2: [0], footer: "CET-1CEST,M3.5.0,M10.5.0/3"), name: "v3"))
        #expect(rule.offset(at: Fixture.utc(2050, 7, 1)) == 7_200 && rule.offset(at: Date(timeIntervalSince1970: 999)) == 0)
    }

    @Test("not TZif: nil", arguments: [[UInt8](), Array("TZif2".utf8), Array("not a zone file at all, not at all".utf8)])
    func notTZif(_ bytes: [UInt8]) {
        #expect(LocalZone(tzif: bytes, name: "x") == nil)
    }

    // Seconds, not dates: Swift Testing's description of such a date traps.
    @Test("dates however far or non-finite neither trap nor leave a million years", arguments: [
        Date.distantFuture.timeIntervalSince1970, Date.distantPast.timeIntervalSince1970, 1e300, -.infinity, .nan,
    ])
    func extremeDates(_ seconds: Double) {
        let date = Date(timeIntervalSince1970: seconds)
        for zone in [LocalZone.berlin, .utc, LocalZone.system(tz: "CET-1CEST,M3.5.0,M10.5.0/3")] {
            let local = zone.localTime(date)
            #expect(abs(local.year) < 1_100_000)
            #expect(zone.localTime(zone.date(of: local)) == local)
        }
    }

    @Test("what the status and the demo print equals what DateFormatter printed before (full Foundation, ICU zones)",
          arguments: ["Europe/Berlin", "Australia/Lord_Howe", "America/New_York", "UTC"])
    func sameAsDateFormatter(_ name: String) throws {
        let zone = try #require(LocalZone(identifier: name))
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = try #require(TimeZone(identifier: name))
        formatter.dateFormat = "EEE d MMM HH:mm|yyyy-MM-dd HH:mm"
        var t: Int64 = 0
        while t < 4_102_444_800 {
            let date = Date(timeIntervalSince1970: Double(t))
            let local = zone.localTime(date)
            let ours = "\(local.weekdayAbbreviation) \(local.day) \(local.monthAbbreviation) \(local.hourMinute)|\(local.dayKey) \(local.hourMinute)"
            #expect(ours == formatter.string(from: date), "\(name) \(t)")
            t += 86_400 * 11 + 4_321
        }
    }

    @Test("month, weekday and time names as the POSIX locale writes them")
    func printedNames() {
        let local = LocalZone.berlin.localTime(Fixture.utc(2026, 5, 4, 7, 5))
        #expect("\(local.weekdayAbbreviation) \(local.day) \(local.monthAbbreviation) \(local.hourMinute)" == "Mon 4 May 09:05")
        #expect(local.description == "2026-05-04 09:05:00")
    }
}

@Suite("Day accounting across the DST changes")
struct DayAccountingDSTTests {
    @Test("the spring day closes after 23 hours of samples, the autumn day after 25", arguments: [
        ("Europe/Berlin", DayKey(year: 2026, month: 3, day: 29), 23),
        ("Europe/Berlin", DayKey(year: 2026, month: 10, day: 25), 25),
        ("Australia/Sydney", DayKey(year: 2026, month: 10, day: 4), 23),
        ("Australia/Sydney", DayKey(year: 2026, month: 4, day: 5), 25),
        ("Australia/Lord_Howe", DayKey(year: 2026, month: 10, day: 4), 23),  // 23.5 h
        ("America/Sao_Paulo", DayKey(year: 2026, month: 6, day: 1), 24),
    ])
    func dstDay(_ name: String, day: DayKey, hours: Int) throws {
        let zone = try #require(LocalZone(identifier: name))
        var accounting = DayAccounting()
        let start = zone.start(of: day).addingTimeInterval(-3_600)
        var minutesOnDay = 0
        var closed: [(day: DayKey, whole: Bool)] = []
        for minute in 0..<(28 * 60) {
            let wall = start.addingTimeInterval(Double(minute) * 60)
            let change = accounting.advance(TimeSample(wall: wall, monotonic: Double(minute) * 60, synchronized: true), zone: zone)
            if case .closed(let days, let whole, _) = change { closed += days.map { ($0, whole) } }
            if accounting.openDay == day { minutesOnDay += 1 }
        }
        // The day before was open when sampling began; the DST day was seen whole and closes whole.
        #expect(closed.map(\.day) == [zone.localTime(start).dayKey, day] && closed.last?.whole == true)
        let expected = Int(zone.start(of: day.next()).timeIntervalSince(zone.start(of: day)) / 60)
        #expect(minutesOnDay == expected)
        #expect(minutesOnDay / 60 == hours)
    }
}
