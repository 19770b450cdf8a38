import Foundation
@testable import ReplenishAgent
import ReplenishCore
import Testing

@Suite("the daemon's clock: real or scaled, from an origin")
struct DaemonClockTests {
    /// A one-slot config whose slot reads from `source`.
    static func config(source: String) throws -> AgentConfig {
        try ConfigLoader.parse("""
        device: {id: clock-test}
        mqtt: {url: "mqtt://127.0.0.1:1883"}
        storage: {path: /tmp/unused.db}
        report: {daily_at: "03:00"}
        slots:
          - id: water
            sensor: level
            measurement: {type: Volume, unit: MILLILITER}
            capacity: 1000
            source: \(source)
        """, fileName: "cfg.yaml")
    }

    static let simulated = "{driver: simulated, sample_every: 10m}"
    static let hardware = "{driver: i2c-register, bus: 1, address: 0x40, register: 0, sample_every: 1s}"

    @Test("a scaled clock starts at the given origin and runs scale times faster")
    func origin() throws {
        let config = try Self.config(source: Self.simulated)
        let origin = try #require(Timestamp.parse("2027-03-01T00:00:00Z"))
        let clock = try #require(try Daemon.clock(for: config, simulate: false, timeScale: 3600, origin: origin) as? ScaledClock)
        #expect(clock.origin == origin)
        #expect(clock.scale == 3600)
        // Moments after making it, it reads within the first simulated hours of the origin, not today.
        #expect(clock.now().timeIntervalSince(origin) >= 0)
        #expect(clock.now().timeIntervalSince(origin) < 3 * 86_400)
    }

    @Test("an origin without a time scale, or a scale over hardware sources, is an argument error")
    func rejected() throws {
        let simulated = try Self.config(source: Self.simulated)
        #expect(throws: AgentError.self) { try Daemon.clock(for: simulated, simulate: false, timeScale: nil, origin: Date()) }
        #expect(try Daemon.clock(for: simulated, simulate: false, timeScale: nil) is SystemClock)
        let hardware = try Self.config(source: Self.hardware)
        #expect(throws: AgentError.self) { try Daemon.clock(for: hardware, simulate: false, timeScale: 60) }
        #expect(try Daemon.clock(for: hardware, simulate: true, timeScale: 60) is ScaledClock)
    }
}
