import Foundation
import ReplenishMQTT
import Testing
import ReplenishTestSupport

/// `replenishd reload`, the unit's ExecReload= (issue 14: `kill -HUP` made `systemctl reload`
/// succeed for a refused config, and before the daemon had acted).
@Suite("replenishd reload", .serialized)
struct ReloadCommandTests {
    @Test("reload answers for the daemon: applied, unchanged, refused (78) or no daemon (69)")
    func answers() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start()
        defer { broker.stop() }
        let config = directory.path("replenishd.yaml")
        func write(every: String) throws {
            try testConfig(deviceID: "reload-cmd", broker: broker, database: directory.path("state.db"), every: every)
                .write(toFile: config, atomically: true, encoding: .utf8)
        }
        try write(every: "1h")
        let subscriber = try Subscriber(broker: broker, base: "replenish/v1/reload-cmd")
        defer { subscriber.stop() }
        try await subscriber.ready()
        let daemon = try DaemonProcessTests.launch(["run", "--config", config, "--simulate"], in: directory, name: "daemon")
        try await subscriber.waitFor("the daemon up") { $0.contains { $0.reason == "startup" } }

        func reload() throws -> (status: Int32, stdout: String, stderr: String) {
            let (status, stderr) = try DaemonProcessTests.run(["reload", "--config", config, "--timeout", "20"], in: directory)
            return (status, (try? String(contentsOfFile: directory.path("cmd.out"), encoding: .utf8)) ?? "", stderr)
        }

        let unchanged = try reload()
        #expect(unchanged.status == 0, "\(unchanged.stderr)")
        #expect(unchanged.stdout.contains("unchanged"))

        try write(every: "2h")
        let applied = try reload()
        #expect(applied.status == 0, "\(applied.stderr)")
        #expect(applied.stdout.contains("reloaded"), "\(applied.stdout)")

        try write(every: "1e20")
        let refused = try reload()
        #expect(refused.status == 78)
        #expect(refused.stderr.contains("report.every"), "\(refused.stderr)")
        #expect(daemon.isRunning)

        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        try write(every: "2h")
        let none = try reload()
        #expect(none.status == 69, "\(none.stderr)")
        #expect(none.stderr.contains("no replenishd is running"))
    }
}
