import Foundation
import Testing

/// SIGHUP with a config that parses but that the daemon could not run on: each is refused before
/// the running generation is touched, and the daemon keeps publishing with the old config.
@Suite("SIGHUP reload refused", .serialized)
struct ReloadRefusalTests {
    struct BadConfig: Sendable, CustomTestStringConvertible {
        let name: String
        /// The running config's text and its directory give the bad one.
        let change: @Sendable (String, TemporaryDirectory) -> String
        let reason: String
        var testDescription: String { name }
    }

    static let cases: [BadConfig] = [
        BadConfig(name: "storage directory missing", change: { text, directory in
            text.replacingOccurrences(of: "path: \(directory.path("state.db"))", with: "path: \(directory.path("absent/state.db"))")
        }, reason: "storage.path: the database's directory"),
        BadConfig(name: "client id of 70,000 bytes", change: { text, _ in
            text.replacingOccurrences(of: "mqtt:\n", with: "mqtt:\n  client_id: \(String(repeating: "c", count: 70_000))\n")
        }, reason: "mqtt.client_id: MQTT takes client ids of at most 65535 bytes, got 70000 bytes"),
        BadConfig(name: "password_file without username", change: { text, directory in
            text.replacingOccurrences(of: "mqtt:\n", with: "mqtt:\n  password_file: \(directory.path("mqtt.password"))\n")
        }, reason: "mqtt.password_file: password_file needs username"),
        BadConfig(name: "sample_every: 1e20", change: { text, _ in
            text.replacingOccurrences(of: "sample_every: 10m", with: "sample_every: 1e20")
        }, reason: "slots[0].source.sample_every: expected a duration at least 10ms and at most 1d, got '1e20'"),
    ]

    @Test("the daemon keeps running and publishing with the old config", arguments: cases)
    func refused(_ bad: BadConfig) async throws {
        let run = try await ReloadTests.Running(device: "reload-refused")
        try await run.subscriber.waitFor("a report") { $0.compactMap(ReloadTests.status).count >= 1 }
        let hash = try #require(run.reports.first).configHash
        // A password file that would pass on its own: only the missing username is wrong.
        try "secret\n".write(toFile: run.directory.path("mqtt.password"), atomically: true, encoding: .utf8)
        chmod(run.directory.path("mqtt.password"), 0o600)

        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        let changed = bad.change(config, run.directory)
        #expect(changed != config)
        try changed.write(toFile: run.configPath, atomically: true, encoding: .utf8)
        kill(run.process.processIdentifier, SIGHUP)
        try await waitUntil("the refusal and its reason logged") {
            run.stderr.contains("configuration rejected") && run.stderr.contains(bad.reason)
        }
        #expect(!run.stderr.contains("configuration reloaded"), "\(run.stderr)")

        let count = run.reports.count
        try await run.subscriber.waitFor("reports after the refusal") { $0.compactMap(ReloadTests.status).count >= count + 2 }
        #expect(run.reports.allSatisfy { $0.configHash == hash })
        #expect(run.process.isRunning)
        run.stop()
        #expect(run.process.terminationStatus == 0)
    }
}

extension ReloadRefusalTests {
    @Test("a reloaded config that fails when its database is opened gives way to the previous one")
    func fallsBack() async throws {
        let run = try await ReloadTests.Running(device: "reload-fallback")
        try await run.subscriber.waitFor("a report") { $0.compactMap(ReloadTests.status).count >= 1 }
        let hash = try #require(run.reports.first).configHash
        // Passes every check (a readable, writable regular file) but is no SQLite database.
        let foreign = run.directory.path("foreign.db")
        try String(repeating: "not a database\n", count: 512).write(toFile: foreign, atomically: true, encoding: .utf8)

        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "path: \(run.directory.path("state.db"))", with: "path: \(foreign)")
            .write(toFile: run.configPath, atomically: true, encoding: .utf8)
        kill(run.process.processIdentifier, SIGHUP)
        try await waitUntil("the fallback logged") { run.stderr.contains("going back to the previous one") }

        let count = run.reports.count
        try await run.subscriber.waitFor("reports after the fallback") { $0.compactMap(ReloadTests.status).count >= count + 2 }
        #expect(run.reports.allSatisfy { $0.configHash == hash })
        #expect(run.process.isRunning)
        run.stop()
        #expect(run.process.terminationStatus == 0)
    }
}
