import FoundationEssentials
import ReplenishCore

/// The wall-clock-only way of feeding a ledger, for tests that script readings by date: the day of
/// each reading is the day of its own date in `zone`, with no `DayAccounting`. Built on the
/// production calls only (`apply(_:definition:day:)`, `apply(_: DayChange)`, the forecast), so a
/// test through it still exercises the ledger's own day closing and averaging.
extension SlotLedger {
    /// Applies one reading on the day of its date: a later day first closes the open day and the
    /// quiet days between; an earlier one counts in the open day.
    public mutating func apply(_ reading: Reading, definition: SlotDefinition, zone: LocalZone) -> [LedgerEvent] {
        guard definition.implausibility(of: reading.observation) == nil else { return [] }
        let day = DayKey(reading.at, in: zone)
        if let open = openDay, open < day {
            let days = Self.days(from: open, before: day, zone: zone, quietAtMost: Self.retainedDays)
            apply(.closed(days: days, whole: true, newDay: day))
        }
        return apply(reading, definition: definition, day: openDay ?? day)
    }

    /// This ledger as if the day of `now` were open: the open day and up to `window` quiet days
    /// after it closed.
    public func closed(asOf now: Date, window: Int, zone: LocalZone) -> SlotLedger {
        let today = DayKey(now, in: zone)
        guard let open = openDay, open < today else { return self }
        var ledger = self
        ledger.apply(.closed(days: Self.days(from: open, before: today, zone: zone, quietAtMost: max(0, window)),
                             whole: true, newDay: today))
        return ledger
    }

    /// The average daily consumption as of `now` on the wall clock (see `closed(asOf:window:zone:)`).
    public func averageDailyConsumption(asOf now: Date, window: Int, zone: LocalZone) -> Double? {
        closed(asOf: now, window: window, zone: zone).averageDailyConsumption(window: window)
    }

    /// The run-out forecast as of `now` on the wall clock (see `closed(asOf:window:zone:)`).
    public func expectedRunOut(asOf now: Date, window: Int, zone: LocalZone) -> Date? {
        closed(asOf: now, window: window, zone: zone).expectedRunOut(asOf: now, window: window, clock: .synchronized)
    }

    /// The days kept, oldest first: the closed days, then the open day (whole when seen from its start).
    public var daily: [DayTotal] {
        guard let openDay else { return closedDays }
        return closedDays + [DayTotal(day: openDay, consumed: openConsumed, whole: openSeenFromStart)]
    }

    /// Consumption on one day: the open day's so far, or the last closed day with that label (0 when none).
    public func consumed(on day: DayKey) -> Double {
        if day == openDay { return openConsumed }
        return closedDays.last(where: { $0.day == day })?.consumed ?? 0
    }

    /// Closed-day consumption plus the open day's: equals `consumedTotal` while no day has aged out.
    public var dailyConsumedTotal: Double { closedDays.reduce(openConsumed) { $0 + $1.consumed } }

    /// `open`, then the days after it before `end`, at most `quietAtMost` of them.
    private static func days(from open: DayKey, before end: DayKey, zone: LocalZone, quietAtMost: Int) -> [DayKey] {
        var days = [open]
        var next = open.next()
        while next < end, days.count <= quietAtMost {
            days.append(next)
            next = next.next()
        }
        return days
    }
}

extension SlotStatus {
    /// The status of a slot whose ledger is fed by `SlotLedger.apply(_:definition:zone:)`.
    public init(definition: SlotDefinition, ledger: SlotLedger, health: SlotHealth, now: Date, zone: LocalZone) {
        self.init(definition: definition,
                  ledger: ledger.closed(asOf: now, window: definition.forecastWindowDays, zone: zone),
                  health: health, now: now, clock: .synchronized)
    }
}

extension DayKey {
    /// Local midnight at the start of this day.
    public func start(in zone: LocalZone) -> Date {
        zone.start(of: self)
    }
}
