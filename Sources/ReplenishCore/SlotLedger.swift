import Foundation

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
public struct SlotLedger: Sendable, Codable, Equatable {
    /// What is left, in the unit; nil while unknown (a usage sensor's stock is stored elsewhere).
    public private(set) var remaining: Double?
    /// Lowest level seen since the last refill; consumption is counted only below it, so
    /// sensor noise that goes up and down never counts twice.
    public private(set) var referenceLevel: Double?
    public private(set) var consumedTotal: Double = 0
    /// `consumedTotal` as of the last report built.
    public private(set) var reportedTotal: Double = 0
    public private(set) var lastUseDate: Date?
    public private(set) var lastReadingDate: Date?
    public private(set) var refillCount: Int = 0
    public private(set) var lastRefillDate: Date?
    /// The first local day this slot was observed (forecast denominators start there).
    public private(set) var firstDay: DayKey?
    /// Consumption per local day, newest last, at most `retainedDays` entries.
    public private(set) var daily: [DayTotal] = []

    /// Days of history kept for aggregation and forecasting.
    public static let retainedDays = 62

    public struct DayTotal: Sendable, Codable, Equatable {
        public var day: DayKey
        public var consumed: Double

        public init(day: DayKey, consumed: Double) {
            self.day = day
            self.consumed = consumed
        }
    }

    public init() {}

    /// Consumption since the last report (`consumedSinceLastReport`).
    public var consumedSinceLastReport: Double { consumedTotal - reportedTotal }

    /// Applies one reading; returns what it revealed (refills, replacements).
    public mutating func apply(_ reading: Reading, definition: SlotDefinition, calendar: Calendar) -> [LedgerEvent] {
        // A non-finite quantity (failed conversion upstream) is no reading: NaN would clamp to 0 and
        // count everything left as consumed, infinity would poison the meter for good.
        switch reading.observation {
        case .level(let q), .consumed(let q): guard q.isFinite else { return [] }
        case .replaced(let q): guard q?.isFinite ?? true else { return [] }
        }
        let day = DayKey(reading.at, in: calendar)
        if firstDay == nil { firstDay = day }
        lastReadingDate = reading.at
        var events: [LedgerEvent] = []

        switch reading.observation {
        case .level(let raw):
            let level = max(0, raw)
            if let reference = referenceLevel {
                if level < reference {
                    record(reference - level, at: reading.at, day: day)
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
            record(quantity, at: reading.at, day: day)
            if definition.sensor == .levelUsage {
                remaining = max(0, (remaining ?? definition.capacity) - quantity)
            }

        case .replaced(let quantity):
            let full = quantity ?? definition.capacity
            remaining = full
            referenceLevel = full
            refillCount += 1
            lastRefillDate = reading.at
            events.append(.replaced(slot: definition.id, quantity: full, at: reading.at))
        }
        return events
    }

    /// Marks `total` (a `consumedTotal` that went into a report) as reported.
    public mutating func markReported(total: Double) {
        reportedTotal = max(reportedTotal, min(total, consumedTotal))
    }

    /// Consumption on one local day (0 when nothing was recorded).
    public func consumed(on day: DayKey) -> Double {
        daily.last(where: { $0.day == day })?.consumed ?? 0
    }

    /// Mean consumption per day over up to `window` whole days before the day of `now`,
    /// counting only days since the slot was first observed; nil without a whole day of history.
    public func averageDailyConsumption(asOf now: Date, window: Int, calendar: Calendar) -> Double? {
        guard let firstDay, window > 0 else { return nil }
        let today = DayKey(now, in: calendar)
        // The first day is usually partial, so it counts only when nothing later does.
        var days: [DayKey] = []
        var day = firstDay
        while day < today {
            days.append(day)
            day = day.next(in: calendar)
        }
        if days.count > 1 { days.removeFirst() }
        let recent = days.suffix(window)
        guard !recent.isEmpty else { return nil }
        let total = recent.reduce(0) { $0 + consumed(on: $1) }
        return total / Double(recent.count)
    }

    /// When the slot runs out at its recent daily rate; nil when unknown or nothing is being used.
    public func expectedRunOut(asOf now: Date, window: Int, calendar: Calendar) -> Date? {
        guard let remaining else { return nil }
        if remaining <= 0 { return now }
        guard let rate = averageDailyConsumption(asOf: now, window: window, calendar: calendar), rate > 0 else {
            return nil
        }
        return now.addingTimeInterval(remaining / rate * 86_400)
    }

    private mutating func record(_ quantity: Double, at date: Date, day: DayKey) {
        consumedTotal += quantity
        lastUseDate = date
        if let last = daily.indices.last, daily[last].day == day {
            daily[last].consumed += quantity
        } else if let index = daily.firstIndex(where: { $0.day == day }) {
            // A reading stamped on an earlier day (clock stepped back) still counts, on its day.
            daily[index].consumed += quantity
        } else {
            daily.append(DayTotal(day: day, consumed: quantity))
            daily.sort { $0.day < $1.day }
            if daily.count > Self.retainedDays { daily.removeFirst(daily.count - Self.retainedDays) }
        }
    }
}
