import Foundation
@testable import ReplenishAgent
import ReplenishMQTT
import Testing
import ReplenishTestSupport

/// `replenishd status` beside a daemon that has just started (issue 14, item 6): the first
/// reading of each slot is written at once, not at the next flush (1 h in this config), so status
/// shows the level the start-up had instead of "level unknown".
@Suite("status at start")
struct StatusAtStartTests {
    @Test("status shows each slot's level soon after a start, long before the first flush")
    func currentAtStart() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start()
        defer { broker.stop() }
        let configPath = directory.path("replenishd.yaml")
        try testConfig(deviceID: "fresh-start", broker: broker, database: directory.path("state.db"))
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let config = try ConfigLoader.load(path: configPath)
        let daemon = try DaemonProcessTests.launch(["run", "--config", configPath], in: directory, name: "daemon")
        defer {
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
        }
        try await waitUntil("status shows the water level", within: .seconds(60)) {
            guard let status = try? DeviceStatus.read(config: config) else { return false }
            return status.daemon.state == "running" && status.slots.first { $0.slot == "water" }?.remaining != nil
        }
        let status = try DeviceStatus.read(config: config)
        #expect(status.slots.first { $0.slot == "water" }?.remaining ?? 0 > 0)
        #expect(config.storage.flushIntervalSeconds == 3600)
    }
}
