import FoundationEssentials

/// One reading of the clocks: the wall clock, the monotonic clock, and whether the wall clock is trusted.
public struct TimeSample: Sendable, Equatable {
    public var wall: Date
    /// Seconds on the process's monotonic clock (`AgentClock.monotonic()`).
    public var monotonic: Double
    /// The wall clock is synchronized or kept by an RTC (`ClockTrust.isSynchronized()`).
    public var synchronized: Bool

    public init(wall: Date, monotonic: Double, synchronized: Bool) {
        self.wall = wall
        self.monotonic = monotonic
        self.synchronized = synchronized
    }

    /// Reads `clock` and `trust` now.
    public init(clock: any AgentClock, trust: any ClockTrust) {
        let synchronized = trust.isSynchronized()
        self.init(wall: clock.now(), monotonic: clock.monotonic(), synchronized: synchronized)
    }
}

/// What a time sample did to the accounting day; every ledger follows it (`SlotLedger.apply(_:)`).
public enum DayChange: Sendable, Equatable {
    /// The open day goes on.
    case none
    /// The open day takes a new label; nothing closes (first trusted time after an untrusted start,
    /// or a wall-clock jump). Its consumption stays with it.
    case rekeyed(from: DayKey, to: DayKey)
    /// Days close, oldest first: `days[0]` is the open day with its consumption, the others are quiet
    /// days (zero) the monotonic clock vouches for. `whole` says whether `days[0]` was a whole day
    /// (began at a day boundary this process saw, no jump or re-key in it). `newDay` opens.
    case closed(days: [DayKey], whole: Bool, newDay: DayKey)
}

/// Decides the open accounting day from time samples, so that no wall-clock jump invents or erases
/// a day of consumption. One per agent, shared by every ledger; persisted with the ledgers.
///
/// Rules:
/// - The first sample ever opens its wall day, whatever it is (trusted or not).
/// - A day closes only on trusted time: while the wall clock has never been trusted in this
///   process, nothing closes and the open day keeps accumulating.
/// - The first trusted sample of a process re-keys an untrusted open day to the wall day (nothing
///   closes). If the open day's label was itself trusted (a restart) and the wall day is later,
///   exactly that one day closes: days of downtime are neither invented nor zero-filled. Either way
///   the open day is no longer whole (the process was not there for all of it).
/// - From then on (same process), each sample is compared with the last trusted one: the wall
///   clock should have moved as much as the monotonic clock. If it did (within `tolerance`), the
///   wall day moving forward by k closes k days: the open one and k - 1 quiet ones. If it did not,
///   the wall clock jumped: only the day boundaries the monotonic clock vouches for close, then the
///   open day is re-keyed to the new wall day.
/// - Trust lost after it was had (the kernel sets STA_UNSYNC some hours into a network outage):
///   days keep closing on the monotonic clock counted from the last trusted sample (holdover),
///   never on the untrusted wall clock.
/// - The wall day moving back without a jump (a step smaller than `tolerance` across midnight)
///   changes nothing: the open day closes when the wall clock passes it again.
public struct DayAccounting: Sendable, Codable, Equatable {
    /// How far the wall clock may disagree with the monotonic clock before it counts as a jump.
    public static let defaultTolerance: Double = 300

    /// Quiet days closed at most at once (ten years; only a clock bug could ask for more).
    static let maxClosedAtOnce = 3_660

    /// The day consumption currently goes to; nil before the first sample.
    public private(set) var openDay: DayKey?
    /// Whether `openDay`'s label comes from trusted time.
    public private(set) var openDayTrusted = false
    /// Whether the open day began at a day boundary this process saw (no start-up, jump or re-key in it).
    public private(set) var openDayWhole = false
    /// Days closed so far (diagnostics).
    public private(set) var closedDayCount = 0
    public var tolerance: Double

    /// The last trusted sample of this process: the reference the monotonic clock counts from.
    /// Not persisted: monotonic readings mean nothing in another process.
    private var anchor: Anchor?

    private struct Anchor: Sendable, Equatable {
        var wall: Date
        var monotonic: Double
    }

    private enum CodingKeys: String, CodingKey {
        case openDay, openDayTrusted, openDayWhole, closedDayCount, tolerance
    }

    public init(tolerance: Double = Self.defaultTolerance) {
        self.tolerance = tolerance
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        openDay = try c.decodeIfPresent(DayKey.self, forKey: .openDay)
        openDayTrusted = try c.decodeIfPresent(Bool.self, forKey: .openDayTrusted) ?? false
        openDayWhole = try c.decodeIfPresent(Bool.self, forKey: .openDayWhole) ?? false
        closedDayCount = try c.decodeIfPresent(Int.self, forKey: .closedDayCount) ?? 0
        tolerance = try c.decodeIfPresent(Double.self, forKey: .tolerance) ?? Self.defaultTolerance
        anchor = nil
    }

    /// Takes one sample; returns what happened to the open day.
    public mutating func advance(_ sample: TimeSample, zone: LocalZone) -> DayChange {
        let wallDay = DayKey(sample.wall, in: zone)
        guard let open = openDay else {
            openDay = wallDay
            openDayTrusted = sample.synchronized
            openDayWhole = false
            if sample.synchronized { anchor = Anchor(wall: sample.wall, monotonic: sample.monotonic) }
            return .none
        }
        // A monotonic clock that went back is another process's (or a broken) clock: no reference.
        if let a = anchor, sample.monotonic < a.monotonic { anchor = nil }

        if let a = anchor {
            // Where a wall clock that did not jump would be now.
            let expected = a.wall.addingTimeInterval(sample.monotonic - a.monotonic)
            guard sample.synchronized else {
                // Holdover: days close on the monotonic clock, never on the untrusted wall clock.
                return close(upTo: DayKey(expected, in: zone), zone: zone) ?? .none
            }
            anchor = Anchor(wall: sample.wall, monotonic: sample.monotonic)
            if abs(sample.wall.timeIntervalSince(expected)) <= tolerance {
                return close(upTo: wallDay, zone: zone) ?? .none
            }
            // A jump: the boundaries the monotonic clock passed close, then the day takes the wall's label.
            let closed = close(upTo: DayKey(expected, in: zone), zone: zone)
            let current = openDay ?? open
            openDayWhole = false
            openDayTrusted = true
            openDay = wallDay
            if case .closed(let days, let whole, _) = closed {
                return .closed(days: days, whole: whole, newDay: wallDay)
            }
            return current == wallDay ? .none : .rekeyed(from: current, to: wallDay)
        }

        // No trusted reference in this process yet: a start (the process was not there for all of the
        // open day, so it is not whole), or the first trusted time after an untrusted start.
        guard sample.synchronized else { return .none }
        anchor = Anchor(wall: sample.wall, monotonic: sample.monotonic)
        let trustedLabel = openDayTrusted
        openDayTrusted = true
        openDayWhole = false
        if trustedLabel, open < wallDay {
            // The day that was open closes, once; days of downtime are neither invented nor zero-filled.
            openDay = wallDay
            closedDayCount += 1
            return .closed(days: [open], whole: false, newDay: wallDay)
        }
        if open != wallDay {
            openDay = wallDay
            return .rekeyed(from: open, to: wallDay)
        }
        return .none
    }

    /// Closes the open day and the quiet days after it, up to `target` (which opens, whole).
    private mutating func close(upTo target: DayKey, zone: LocalZone) -> DayChange? {
        guard let open = openDay, open < target else { return nil }
        var days = [open]
        var day = open.next()
        while day < target, days.count < Self.maxClosedAtOnce {
            days.append(day)
            day = day.next()
        }
        let whole = openDayWhole
        openDay = target
        openDayWhole = true
        openDayTrusted = true
        closedDayCount += days.count
        return .closed(days: days, whole: whole, newDay: target)
    }
}
