import Foundation
@testable import ReplenishCore
import ReplenishTestSupport

/// The slot measurement, not Foundation's unit type of the same name.
typealias Measurement = ReplenishCore.Measurement

/// Fixed zones and dates, so no test depends on the machine's zone or the wall clock.
enum Fixture {
    static let berlin = LocalZone.berlin

    static let utc = LocalZone.utc

    /// A local wall-clock instant in `zone` (Berlin by default).
    static func local(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 12, _ minute: Int = 0,
                      _ second: Int = 0, in zone: LocalZone = berlin) -> Date {
        zone.date(year, month, day, hour, minute, second)
    }

    /// An instant given in UTC.
    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0,
                    _ second: Int = 0) -> Date {
        local(year, month, day, hour, minute, second, in: utc)
    }

    /// 2026-05-04 12:00 Berlin: an ordinary weekday far from any DST change.
    static let noon = local(2026, 5, 4, 12)

    static func slot(_ sensor: SensorKind, capacity: Double = 1000, hysteresis: Double? = nil,
                     window: Int = 14, id: String? = nil,
                     measurement: Measurement = Measurement(type: .volume, unit: .milliliter)) -> SlotDefinition {
        SlotDefinition(id: id ?? "water-\(sensor.rawValue)", sensor: sensor, measurement: measurement,
                       capacity: capacity, refillHysteresis: hysteresis, forecastWindowDays: window)
    }
}

/// A ledger with its slot and zone, applying observations at given instants.
struct LedgerHarness {
    let definition: SlotDefinition
    let zone: LocalZone
    var ledger = SlotLedger()
    var events: [LedgerEvent] = []

    init(_ definition: SlotDefinition, zone: LocalZone = Fixture.berlin) {
        self.definition = definition
        self.zone = zone
    }

    @discardableResult
    mutating func apply(_ observation: Observation, at date: Date) -> [LedgerEvent] {
        let new = ledger.apply(Reading(slot: definition.id, at: date, observation: observation),
                               definition: definition, zone: zone)
        events += new
        return new
    }

    /// Applies observations one minute apart, starting at `start`.
    mutating func apply(_ observations: [Observation], from start: Date = Fixture.noon) {
        for (i, o) in observations.enumerated() { apply(o, at: start.addingTimeInterval(Double(i) * 60)) }
    }
}
