import FoundationEssentials

/// Something the ledger noticed that the cloud should hear about at once.
public enum LedgerEvent: Sendable, Equatable {
    /// A level rose by more than the hysteresis: the slot was refilled.
    case refilled(slot: String, from: Double, to: Double, at: Date)
    /// A new consumable (cartridge, filter) was inserted.
    case replaced(slot: String, quantity: Double, at: Date)
}

/// The running account of one slot: what is left, what was used, and when.
///
/// `consumedTotal` is a meter reading: it only ever grows, so a report that is lost or
/// evicted loses no consumption; the cloud takes differences.
///
/// Days: consumption goes to the open day; `closedDays` holds closed days in the order they closed.
/// With a `DayAccounting` driving it (`apply(_:definition:day:)` and `apply(_:)`), a day
/// closes only on trusted time, so a wall-clock jump never invents or erases a day; labels of
/// closed days may then be out of calendar order (after a back jump), and the forecast never does
/// calendar arithmetic across them.
public struct SlotLedger: Sendable, Codable, Equatable {
    /// What is left, in the unit; nil while unknown (a usage sensor's stock is stored elsewhere).
    public internal(set) var remaining: Double?
    /// Lowest level seen since the last refill; consumption is counted only below it, so
    /// sensor noise that goes up and down never counts twice.
    public internal(set) var referenceLevel: Double?
    public internal(set) var consumedTotal: Double = 0
    /// `consumedTotal` as of the last report built.
    public internal(set) var reportedTotal: Double = 0
    public internal(set) var lastUseDate: Date?
    public internal(set) var lastReadingDate: Date?
    public internal(set) var refillCount: Int = 0
    public internal(set) var lastRefillDate: Date?
    /// The first day this slot was observed (its label).
    public internal(set) var firstDay: DayKey?
    /// Closed days, in closing order (oldest first), at most `retainedDays - 1` entries.
    public internal(set) var closedDays: [DayTotal] = []
    /// The day consumption currently goes to; nil before the first reading.
    public internal(set) var openDay: DayKey?
    /// Consumption on the open day so far.
    public internal(set) var openConsumed: Double = 0
    /// Whether this ledger has seen the open day from its start (false on the ledger's first day).
    public internal(set) var openSeenFromStart = false
    /// Days closed in this ledger's life (`closedDays` keeps only the newest).
    public internal(set) var closedDayCount = 0
    /// What was used since the last replacement; nil before the first one this ledger saw (a
    /// ledger stored before this was kept, too), when how much the slot held is unknown.
    public internal(set) var usedSinceReplacement: Double?
    /// The level in the last ChangeReport sent to Alexa (committed with its report); nil before one.
    public internal(set) var alexaLevelSent: Double?
    /// `consumedTotal` and the time as of the last report that could tell Alexa (one built on
    /// trusted time); nil before one, and then the last report's count.
    public internal(set) var alexaToldTotal: Double?
    public internal(set) var alexaToldAt: Date?

    /// Days of history kept for aggregation and forecasting, the open day included.
    public static let retainedDays = 62

    public struct DayTotal: Sendable, Codable, Equatable {
        public var day: DayKey
        public var consumed: Double
        /// A whole day: observed from its start to its end, with no clock jump or re-key in it.
        /// Days that are not (the ledger's first, partial day; a jump day) feed the forecast only
        /// when there is nothing better.
        public var whole: Bool

        public init(day: DayKey, consumed: Double, whole: Bool = true) {
            self.day = day
            self.consumed = consumed
            self.whole = whole
        }

        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            day = try c.decode(DayKey.self, forKey: .day)
            consumed = try c.decode(Double.self, forKey: .consumed)
            whole = try c.decodeIfPresent(Bool.self, forKey: .whole) ?? true
        }

        private enum CodingKeys: String, CodingKey { case day, consumed, whole }
    }

    public init() {}

    /// Consumption since the last report (`consumedSinceLastReport`).
    public var consumedSinceLastReport: Double { consumedTotal - reportedTotal }

    // MARK: Readings

    /// Applies one reading to the open day `day`, the open day of the agent's `DayAccounting`;
    /// returns what it revealed (refills, replacements). The reading's own date does not choose the day.
    public mutating func apply(_ reading: Reading, definition: SlotDefinition, day: DayKey) -> [LedgerEvent] {
        guard definition.implausibility(of: reading.observation) == nil else { return [] }
        follow(openDay: day)
        return record(reading, definition: definition)
    }

    // MARK: Days

    /// Follows a change of the accounting day. A ledger that has not seen a reading yet starts later,
    /// with its first reading.
    public mutating func apply(_ change: DayChange) {
        guard openDay != nil else { return }
        switch change {
        case .none:
            break
        case .rekeyed(_, let to):
            openDay = to
        case .closed(let days, let whole, let newDay):
            for (i, day) in days.enumerated() {
                let total = i == 0
                    ? DayTotal(day: day, consumed: openConsumed, whole: whole && openSeenFromStart)
                    : DayTotal(day: day, consumed: 0, whole: true)
                closedDays.append(total)
            }
            let keep = Self.retainedDays - 1
            if closedDays.count > keep { closedDays.removeFirst(closedDays.count - keep) }
            closedDayCount += days.count
            openDay = newDay
            openConsumed = 0
            openSeenFromStart = true
        }
    }

    /// Makes `day` the open day: the first one, or (a change this ledger missed) the next one.
    private mutating func follow(openDay day: DayKey) {
        guard let open = openDay else {
            openDay = day
            firstDay = firstDay ?? day
            openSeenFromStart = false
            return
        }
        guard open != day else { return }
        if open < day {
            apply(.closed(days: [open], whole: true, newDay: day))
            openSeenFromStart = false
        } else {
            apply(.rekeyed(from: open, to: day))
        }
    }

    private mutating func record(_ reading: Reading, definition: SlotDefinition) -> [LedgerEvent] {
        lastReadingDate = reading.at
        var events: [LedgerEvent] = []

        switch reading.observation {
        case .level(let raw):
            let level = max(0, raw)
            if let reference = referenceLevel {
                if level < reference {
                    consume(reference - level, at: reading.at)
                    referenceLevel = level
                } else if level - reference > definition.refillHysteresis {
                    refillCount += 1
                    lastRefillDate = reading.at
                    referenceLevel = level
                    events.append(.refilled(slot: definition.id, from: reference, to: level, at: reading.at))
                }
            } else {
                referenceLevel = level
            }
            remaining = referenceLevel

        case .consumed(let quantity):
            guard quantity > 0 else { break }
            consume(quantity, at: reading.at)
            if definition.sensor == .levelUsage {
                remaining = max(0, (remaining ?? definition.capacity) - quantity)
            }

        case .replaced(let quantity):
            let full = quantity ?? definition.capacity
            // A usage slot's stock is stored elsewhere: its remaining stays unknown (DRS's comes
            // from `usedSinceReplacement`).
            if definition.sensor != .usage {
                remaining = full
                referenceLevel = full
            }
            usedSinceReplacement = 0
            refillCount += 1
            lastRefillDate = reading.at
            events.append(.replaced(slot: definition.id, quantity: full, at: reading.at))
        }
        return events
    }

    private mutating func consume(_ quantity: Double, at date: Date) {
        consumedTotal += quantity
        lastUseDate = date
        openConsumed += quantity
        usedSinceReplacement? += quantity
    }

    /// What a usage slot has left as Dash Replenishment counts it: `capacity` less what was used since
    /// the last replacement, never below 0; nil before a replacement was seen.
    public func remainingSinceReplacement(capacity: Double) -> Double? {
        usedSinceReplacement.map { max(0, capacity - $0) }
    }

    /// Marks `total` (a `consumedTotal` that went into a report built at `at`) as reported.
    public mutating func markReported(total: Double, at: Date? = nil) {
        reportedTotal = max(reportedTotal, min(total, consumedTotal))
        if let at { lastReportDate = max(lastReportDate ?? at, at) }
    }

    /// Notes the level a committed report's ChangeReport told Alexa.
    public mutating func markAlexaLevelSent(_ level: Double) {
        alexaLevelSent = level
    }

    /// Notes that a committed report built at `at` told Alexa of `consumed` more (whole units of
    /// a Count: the rest is still to tell), and of any replacement before `at`.
    public mutating func markAlexaTold(consumed: Double, at: Date) {
        holdForAlexa()
        alexaToldTotal = min(consumedTotal, (alexaToldTotal ?? reportedTotal) + max(0, consumed))
        alexaToldAt = at
    }

    /// Before a report that cannot tell Alexa is marked reported: keeps Alexa's count where the
    /// last report left it (a ledger from before this was kept counts from its last report).
    public mutating func holdForAlexa() {
        if alexaToldTotal == nil { alexaToldTotal = reportedTotal }
        if alexaToldAt == nil { alexaToldAt = lastReportDate ?? .distantPast }
    }

    /// What Alexa has not heard of yet: used since the last report that could tell it.
    public var consumedSinceAlexaTold: Double { consumedTotal - (alexaToldTotal ?? reportedTotal) }

    /// The last refill or replacement, if Alexa has not heard of it yet.
    public var replacedSinceAlexaTold: Date? {
        guard let refill = lastRefillDate else { return nil }
        guard let told = alexaToldAt ?? lastReportDate else { return refill }
        return refill > told ? refill : nil
    }

    /// Sets what is left by hand (`inventoryAdjust`): no consumption, no refill, just the new level.
    /// A level sensor's next reading is taken as the new reference, neither a use nor a refill: the
    /// gap between the number a person typed and what the sensor measures was never consumed.
    /// A usage slot keeps no level: what remains is its capacity less what was used since the
    /// last replacement, so the adjustment sets that use instead (DRS's remaining follows it).
    public mutating func adjustRemaining(to quantity: Double, definition: SlotDefinition) {
        guard quantity.isFinite, quantity >= 0 else { return }
        guard definition.sensor != .usage else {
            usedSinceReplacement = max(0, definition.capacity - quantity)
            return
        }
        remaining = quantity
        referenceLevel = nil
    }

    /// When the last report including this slot was built.
    public internal(set) var lastReportDate: Date?

    /// The last refill or replacement, if it happened after the last report.
    public var refilledSinceLastReport: Date? {
        guard let refill = lastRefillDate else { return nil }
        guard let report = lastReportDate else { return refill }
        return refill > report ? refill : nil
    }

    // MARK: Forecast

    /// Mean consumption per day over the last `window` closed days, never the open one; days that
    /// were not whole (the ledger's first, partial day; a clock-jump day) count only when no whole
    /// day exists. Nil without a closed day.
    public func averageDailyConsumption(window: Int) -> Double? {
        Self.average(of: closedDays, window: window)
    }

    /// When the slot runs out at its recent daily rate, from `now`; nil when unknown, when nothing is
    /// being used, or when the wall clock is not trusted (a date computed from a 1970 clock is garbage).
    public func expectedRunOut(asOf now: Date, window: Int, clock: ClockStatus) -> Date? {
        expectedRunOut(of: remaining, asOf: now, window: window, clock: clock)
    }

    /// When `remaining` (another count of what is left, e.g. `remainingSinceReplacement`) runs out
    /// at this slot's recent daily rate; nil as `expectedRunOut(asOf:window:clock:)` is.
    public func expectedRunOut(of remaining: Double?, asOf now: Date, window: Int, clock: ClockStatus) -> Date? {
        guard clock == .synchronized, let remaining else { return nil }
        if remaining <= 0 { return now }
        guard let rate = averageDailyConsumption(window: window) else { return nil }
        return Self.runOut(remaining: remaining, rate: rate, from: now)
    }

    /// Run-outs further away than this are "not being used": a trickle of sensor noise would
    /// otherwise date one in the year 506713, which no cloud takes as a date.
    public static let longestForecastDays = 36_525.0

    private static func runOut(remaining: Double, rate: Double, from now: Date) -> Date? {
        guard rate > 0 else { return nil }
        let days = remaining / rate
        guard days <= longestForecastDays else { return nil }
        return now.addingTimeInterval(days * 86_400)
    }

    private static func average(of days: [DayTotal], window: Int) -> Double? {
        guard window > 0 else { return nil }
        let whole = days.filter(\.whole)
        let recent = (whole.isEmpty ? days : whole).suffix(window)
        guard !recent.isEmpty else { return nil }
        return recent.reduce(0) { $0 + $1.consumed } / Double(recent.count)
    }

    // MARK: Coding

    private enum CodingKeys: String, CodingKey {
        case remaining, referenceLevel, consumedTotal, reportedTotal, lastUseDate, lastReadingDate, refillCount,
             lastRefillDate, firstDay, openDay, openConsumed, openSeenFromStart, closedDayCount, lastReportDate,
             usedSinceReplacement, alexaLevelSent, alexaToldTotal, alexaToldAt
        case closedDays = "daily"
    }

    /// Reads this format and the ones before it (per-date `daily` including the current day, no open
    /// day; no `usedSinceReplacement`, which then stays unknown until the next replacement).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        remaining = try c.decodeIfPresent(Double.self, forKey: .remaining)
        referenceLevel = try c.decodeIfPresent(Double.self, forKey: .referenceLevel)
        consumedTotal = try c.decodeIfPresent(Double.self, forKey: .consumedTotal) ?? 0
        reportedTotal = try c.decodeIfPresent(Double.self, forKey: .reportedTotal) ?? 0
        lastUseDate = try c.decodeIfPresent(Date.self, forKey: .lastUseDate)
        lastReadingDate = try c.decodeIfPresent(Date.self, forKey: .lastReadingDate)
        refillCount = try c.decodeIfPresent(Int.self, forKey: .refillCount) ?? 0
        lastRefillDate = try c.decodeIfPresent(Date.self, forKey: .lastRefillDate)
        lastReportDate = try c.decodeIfPresent(Date.self, forKey: .lastReportDate)
        usedSinceReplacement = try c.decodeIfPresent(Double.self, forKey: .usedSinceReplacement)
        alexaLevelSent = try c.decodeIfPresent(Double.self, forKey: .alexaLevelSent)
        alexaToldTotal = try c.decodeIfPresent(Double.self, forKey: .alexaToldTotal)
        alexaToldAt = try c.decodeIfPresent(Date.self, forKey: .alexaToldAt)
        firstDay = try c.decodeIfPresent(DayKey.self, forKey: .firstDay)
        var days = try c.decodeIfPresent([DayTotal].self, forKey: .closedDays) ?? []
        if c.contains(.openDay) || c.contains(.openConsumed) {
            openDay = try c.decodeIfPresent(DayKey.self, forKey: .openDay)
            openConsumed = try c.decodeIfPresent(Double.self, forKey: .openConsumed) ?? 0
            openSeenFromStart = try c.decodeIfPresent(Bool.self, forKey: .openSeenFromStart) ?? false
            closedDayCount = try c.decodeIfPresent(Int.self, forKey: .closedDayCount) ?? days.count
        } else {
            // Older format: `daily` held every day by date; the newest is the open one, the first was partial.
            if let first = days.indices.first, days[first].day == firstDay { days[first].whole = false }
            if let last = days.popLast() {
                openDay = last.day
                openConsumed = last.consumed
                openSeenFromStart = last.whole
            } else {
                openDay = firstDay
                openSeenFromStart = false
            }
            closedDayCount = days.count
        }
        closedDays = days
    }
}
