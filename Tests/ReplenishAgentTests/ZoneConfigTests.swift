import Foundation
import ReplenishCore
import Testing
@testable import ReplenishAgent

/// Named zones reach the daemon through `device.timezone` and `DeviceSettings.zone`, with no ICU
/// behind them: if zone files stopped being read, these fail instead of days silently going UTC.
@Suite("device.timezone: the zone the daemon runs its days in")
struct ZoneConfigTests {
    static func config(timezone: String) -> String {
        """
        device: {id: cm-000123, timezone: \(timezone)}
        mqtt: {url: "mqtt://127.0.0.1"}
        storage: {path: /var/lib/replenishd/state.db}
        report: {daily_at: "3:00"}
        slots: [{id: water_tank, sensor: level, measurement: {type: Volume, unit: LITER}, capacity: 1.8, source: {driver: simulated}}]

        """
    }

    static func utc(_ year: Int, _ month: Int, _ day: Int, _ hour: Int = 0, _ minute: Int = 0) -> Date {
        LocalZone.utc.date(year, month, day, hour, minute)
    }

    @Test("Europe/Berlin is +2 h in July and +1 h in January, and its days and daily_at follow")
    func berlin() throws {
        let zone = try ConfigLoader.parse(Self.config(timezone: "Europe/Berlin"), fileName: "cfg.yaml").device.zone
        #expect(zone.name == "Europe/Berlin")
        #expect(zone.offset(at: Self.utc(2026, 7, 1, 12)) == 7_200)
        #expect(zone.offset(at: Self.utc(2026, 1, 15, 12)) == 3_600)
        #expect(DayKey(Self.utc(2026, 7, 1, 22, 30), in: zone) == DayKey(year: 2026, month: 7, day: 2))
        let schedule = ReportSchedule(dailyAt: try #require(TimeOfDay(parsing: "03:00")))
        #expect(schedule.nextDaily(after: Self.utc(2026, 7, 1, 12), zone: zone) == Self.utc(2026, 7, 2, 1))
    }

    @Test("southern and half-hour zones load too", arguments: [
        ("Australia/Sydney", 36_000, 39_600), ("Asia/Kathmandu", 20_700, 20_700), ("America/New_York", -14_400, -18_000),
    ])
    func others(_ name: String, july: Int, january: Int) throws {
        let zone = try ConfigLoader.parse(Self.config(timezone: name), fileName: "cfg.yaml").device.zone
        #expect(zone.offset(at: Self.utc(2026, 7, 1, 12)) == july)
        #expect(zone.offset(at: Self.utc(2026, 1, 15, 12)) == january)
    }
}
