import Foundation
import ReplenishTestSupport
import Testing

/// `{base}/config/desired` against the real executable and a real mosquitto: applied through the
/// reload path, rejected whole with positions, kept across a SIGKILL.
@Suite("Remote configuration", .serialized)
struct RemoteConfigTests {
    /// A daemon on a private broker, which can be killed and started again on the same directory.
    final class Unit: Sendable {
        let device: String
        let directory: TemporaryDirectory
        let broker: TestBroker
        let subscriber: Subscriber
        let configPath: String

        init(device: String, extra: String = "") async throws {
            self.device = device
            directory = try TemporaryDirectory()
            broker = try TestBroker.start(persistence: false)
            configPath = directory.path("replenishd.yaml")
            try (testConfig(deviceID: device, broker: broker, database: directory.path("state.db"), every: "1h") + extra)
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            subscriber = try Subscriber(broker: broker, base: "replenish/v1/\(device)")
            try await subscriber.ready()
        }

        var base: String { "replenish/v1/\(device)" }
        var overlayPath: String { directory.path("state.db.remote.yaml") }

        /// Starts the daemon (one simulated hour per 0.5 s: a report every half second) and waits for READY=1.
        func start(_ name: String) async throws -> ChildProcess {
            let notify = try NotificationListener(directory: directory.url.path)
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notify.path
            let process = try ChildProcess(try replenishdExecutable(),
                                           ["run", "--config", configPath, "--simulate", "--time-scale", "7200"],
                                           environment: environment, stdout: .null, stderr: .file(directory.path(name + ".err")))
            #expect(await notify.next(where: { $0.hasPrefix("READY=1") }, within: 60) != nil)
            return process
        }

        func stderr(_ name: String) -> String { (try? String(contentsOfFile: directory.path(name + ".err"), encoding: .utf8)) ?? "" }

        /// Publishes a desired document as the cloud does: retained, QoS 1.
        func desire(_ document: String) throws {
            _ = try subscriber.client.publish(topic: base + "/config/desired", payload: Array(document.utf8), qos: 1, retain: true)
        }

        /// The answers on `{base}/config/reported`, with their seq, in arrival order, copies dropped.
        var answers: [(seq: UInt64, body: [String: Any])] {
            var seen = Set<UInt64>()
            return subscriber.messages.filter { $0.topic == base + "/config/reported" && seen.insert($0.seq).inserted }.compactMap {
                guard let body = try? JSONSerialization.jsonObject(with: Data($0.json.utf8)) as? [String: Any] else { return nil }
                return ($0.seq, body)
            }
        }

        func answer(version: Int) async throws -> (seq: UInt64, body: [String: Any]) {
            let found: @Sendable () -> Bool = { self.answers.contains { ($0.body["version"] as? NSNumber)?.intValue == version } }
            do {
                try await waitUntil("the answer to version \(version)", found)
            } catch {
                let topics = Set(subscriber.rawMessages.map(\.topic)).sorted()
                throw TimedOut(description: "\(error); topics seen: \(topics); daemon: \(stderr("run").split(separator: "\n").filter { !$0.contains("queued") }.suffix(40).joined(separator: "\n"))")
            }
            return answers.first { ($0.body["version"] as? NSNumber)?.intValue == version }!
        }

        /// Status reports by seq: (seq, configHash, reason).
        var reports: [(seq: UInt64, configHash: String, reason: String?)] {
            subscriber.messages.filter { $0.topic == base + "/status" }.compactMap { message in
                ReloadTests.status(message).map { (message.seq, $0.configHash, message.reason) }
            }
        }

        func stop(_ process: ChildProcess) {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }

        func close() {
            subscriber.stop()
            broker.stop()
        }
    }

    @Test("a threshold change is applied without a reconnect or a startup report, and the next reports carry its configHash")
    func thresholdApplied() async throws {
        let unit = try await Unit(device: "remote-apply")
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try await unit.subscriber.waitFor("two reports") { _ in unit.reports.count >= 2 }
        let before = try #require(unit.reports.last).configHash

        try unit.desire(#"{"version": 1, "slots": [{"id": "water", "low_threshold": "20%"}]}"#)
        let answer = try await unit.answer(version: 1)
        let answered = answer.seq
        #expect(answer.body["status"] as? String == "applied", "\(answer.body)")
        #expect(answer.body["schema"] as? String == "replenish.config-reported/1")
        #expect(answer.body["messageId"] as? String == "remote-apply-\(answer.seq)")
        let hash = try #require(answer.body["configHash"] as? String)
        #expect(hash != before)
        try await unit.subscriber.waitFor("two reports after the answer") { _ in unit.reports.filter { $0.seq > answered }.count >= 2 }
        #expect(unit.reports.filter { $0.seq > answer.seq }.allSatisfy { $0.configHash == hash })
        #expect(unit.reports.filter { $0.seq < answer.seq }.allSatisfy { $0.configHash == before })
        #expect(unit.reports.filter { $0.reason == "startup" }.count == 1, "applying sent a startup report")
        let onlines = unit.subscriber.rawMessages.filter { $0.topic == unit.base + "/availability" && $0.payload == "online" }
        #expect(onlines.count == 1, "applying reconnected")
        let overlay = try String(contentsOfFile: unit.overlayPath, encoding: .utf8)
        #expect(overlay.contains(#""low_threshold": "20%""#))

        let status = try ChildProcess.run(try replenishdExecutable(), ["status", "--config", unit.configPath])
        #expect(status.output.contains("local + remote version 1"), "\(status.output)")
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
        #expect(unit.stderr("run").contains("remote configuration applied"), "\(unit.stderr("run"))")
        // A threshold is the ledger's business: both sources stayed open through the swap.
        #expect(unit.stderr("run").contains("sources: 2 kept open, 0 opened, 0 closed"), "\(unit.stderr("run"))")
    }

    @Test("a bad desired document is rejected whole with its positions; the running configuration stays")
    func badDocumentRejected() async throws {
        let unit = try await Unit(device: "remote-bad")
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try await unit.subscriber.waitFor("a report") { _ in unit.reports.count >= 1 }
        let before = try #require(unit.reports.last).configHash

        // The good change beside the bad one is not applied either.
        let document = #"{"version": 1, "report": {"every": "2h"}, "slots": [{"id": "water", "low_threshold": "300%"}]}"#
        try unit.desire(document)
        let answer = try await unit.answer(version: 1)
        let answered = answer.seq
        #expect(answer.body["status"] as? String == "rejected")
        #expect(answer.body["configHash"] as? String == before)
        let problems = try #require(answer.body["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        let problem = try #require(problems.first)
        #expect(problem["keyPath"] as? String == "slots[0].low_threshold")
        #expect((problem["line"] as? NSNumber)?.intValue == 1)
        // Where the value stands in the document (1-based).
        let column = document.distance(from: document.startIndex, to: document.range(of: #""300%""#)!.lowerBound) + 1
        #expect(column == 86)
        #expect((problem["column"] as? NSNumber)?.intValue == column)
        #expect(problem["document"] as? String == "desired")
        #expect((problem["message"] as? String)?.contains("expected a quantity from 0 to the capacity (1800)") == true, "\(problem)")

        try await unit.subscriber.waitFor("two reports after the answer") { _ in unit.reports.filter { $0.seq > answered }.count >= 2 }
        #expect(unit.reports.allSatisfy { $0.configHash == before })
        #expect(!FileManager.default.fileExists(atPath: unit.overlayPath))
        #expect(daemon.isRunning)
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
        #expect(unit.stderr("run").contains("remote configuration rejected"), "\(unit.stderr("run"))")
    }

    @Test("a desired document that sets a local-only key is rejected, naming the key and why")
    func localKeyRejected() async throws {
        let unit = try await Unit(device: "remote-local")
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try await unit.subscriber.waitFor("a report") { _ in unit.reports.count >= 1 }
        let before = try #require(unit.reports.last).configHash

        try unit.desire("version: 5\nreport:\n  every: 2h\nstorage:\n  path: /tmp/elsewhere.db\n")
        let answer = try await unit.answer(version: 5)
        let answered = answer.seq
        #expect(answer.body["status"] as? String == "rejected")
        let problems = try #require(answer.body["problems"] as? [[String: Any]])
        #expect(problems.count == 1)
        #expect(problems.first?["keyPath"] as? String == "storage.path")
        #expect((problems.first?["line"] as? NSNumber)?.intValue == 5)
        #expect((problems.first?["column"] as? NSNumber)?.intValue == 3)
        #expect((problems.first?["message"] as? String)?.hasPrefix("not remote-settable: the state database") == true, "\(problems)")
        try await unit.subscriber.waitFor("a report after the answer") { _ in unit.reports.contains { $0.seq > answered } }
        #expect(unit.reports.allSatisfy { $0.configHash == before })
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
    }

    @Test("after SIGKILL and a restart the remote configuration is still in force and not answered again")
    func overlaySurvivesRestart() async throws {
        let unit = try await Unit(device: "remote-restart")
        defer { unit.close() }
        let first = try await unit.start("first")
        try unit.desire(#"{"version": 3, "report": {"every": "2h"}, "slots": [{"id": "pods", "low_threshold": 5}]}"#)
        let answer = try await unit.answer(version: 3)
        let answered = answer.seq
        #expect(answer.body["status"] as? String == "applied", "\(answer.body)")
        let hash = try #require(answer.body["configHash"] as? String)
        try await unit.subscriber.waitFor("a report with it") { _ in unit.reports.contains { $0.seq > answered } }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()

        let second = try await unit.start("second")
        let last = unit.reports.map(\.seq).max() ?? 0
        try await unit.subscriber.waitFor("reports after the restart") { _ in unit.reports.filter { $0.seq > last }.count >= 2 }
        #expect(unit.reports.filter { $0.seq > last }.allSatisfy { $0.configHash == hash })
        // The broker hands the retained document over again: recognised, not answered twice.
        try await waitUntil("the retained document seen again") { unit.stderr("second").contains("answered already") }
        #expect(unit.answers.count == 1)
        unit.stop(second)
        #expect(second.terminationStatus == 0)
    }

    @Test("a reload with a changed local file merges the overlay over the new file; config --show names each origin")
    func reloadRemerges() async throws {
        let unit = try await Unit(device: "remote-remerge")
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try unit.desire(#"{"version": 2, "slots": [{"id": "water", "low_threshold": "20%"}]}"#)
        let applied = try #require(try await unit.answer(version: 2).body["configHash"] as? String)

        // The maker's file changes the report period and the very threshold the cloud set.
        let file = try String(contentsOfFile: unit.configPath, encoding: .utf8)
        let changed = file.replacingOccurrences(of: "every: 1h", with: "every: 2h")
            .replacingOccurrences(of: "    capacity: 1800\n", with: "    capacity: 1800\n    low_threshold: 5%\n")
        #expect(changed != file)
        try changed.write(toFile: unit.configPath, atomically: true, encoding: .utf8)
        let reload = try ChildProcess.run(try replenishdExecutable(), ["reload", "--config", unit.configPath])
        #expect(reload.status == 0, "\(reload.output)")
        let merged = try #require(reload.output.split(separator: " ").last.map { String($0.dropLast(2)) })
        #expect(reload.output.contains("reloaded (config \(merged))"), "\(reload.output)")
        #expect(merged != applied)
        let last = unit.reports.map(\.seq).max() ?? 0
        try await unit.subscriber.waitFor("a report of the merged configuration") { _ in
            unit.reports.contains { $0.seq > last && $0.configHash == merged }
        }

        let show = try ChildProcess.run(try replenishdExecutable(), ["config", "--config", unit.configPath, "--show"])
        #expect(show.status == 0)
        let lines = show.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("+ remote version 2") == true, "\(show.output)")
        let threshold = try #require(lines.first { $0.hasPrefix("slots[0].low_threshold:") })
        #expect(threshold.contains("20%") && threshold.contains("# remote version 2, line 1"), "\(threshold)")
        let every = try #require(lines.first { $0.hasPrefix("report.every:") })
        #expect(every.contains("2h") && every.contains("# \(unit.configPath):"), "\(every)")
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
    }

    static let quickConfirmation = "\nremote_config:\n  confirm_within: 3s\n"

    @Test("a desired mqtt.url at a dead port is rolled back within confirm_within and reported; the old connection carries on")
    func deadBrokerRolledBack() async throws {
        let unit = try await Unit(device: "remote-rollback", extra: Self.quickConfirmation)
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try await unit.subscriber.waitFor("a report") { _ in unit.reports.count >= 1 }
        let before = try #require(unit.reports.last).configHash

        let sent = ContinuousClock.now
        try unit.desire(#"{"version": 1, "mqtt": {"url": "mqtt://127.0.0.1:1"}}"#)
        let answer = try await unit.answer(version: 1)
        let answered = answer.seq
        let elapsed = ContinuousClock.now - sent
        print("rollback: answer \(elapsed) after the desired document (confirm_within 3s)")
        #expect(answer.body["status"] as? String == "rolled-back", "\(answer.body)")
        #expect(answer.body["reason"] as? String == "could not connect to mqtt://127.0.0.1:1 within 3s")
        #expect(answer.body["configHash"] as? String == before)
        #expect(elapsed >= .seconds(3) && elapsed < .seconds(20))
        try await unit.subscriber.waitFor("two reports after the rollback") { _ in unit.reports.filter { $0.seq > answered }.count >= 2 }
        // Reports built in the tentative window say so (they wait in the outbox and go out after the rollback).
        #expect(unit.reports.filter { $0.seq > answered }.allSatisfy { $0.configHash == before })
        #expect(Set(unit.reports.filter { $0.seq < answered }.map(\.configHash)).count <= 2)
        #expect(!FileManager.default.fileExists(atPath: unit.overlayPath))
        #expect(!FileManager.default.fileExists(atPath: unit.overlayPath + ".previous"))
        // The retained document comes again on the reconnect: recognised, not tried again.
        try await waitUntil("the retained document seen again") { unit.stderr("run").contains("answered already") }
        #expect(unit.answers.count == 1)
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
        #expect(unit.stderr("run").contains("connection change rolled back"), "\(unit.stderr("run"))")
    }

    @Test("a connection change that connects and sees its own state come back is confirmed and answered applied")
    func connectionChangeConfirmed() async throws {
        let unit = try await Unit(device: "remote-confirm", extra: Self.quickConfirmation)
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try await unit.subscriber.waitFor("a report") { _ in unit.reports.count >= 1 }
        let before = try #require(unit.reports.last).configHash

        try unit.desire(#"{"version": 1, "mqtt": {"keepalive": "30s"}}"#)
        let answer = try await unit.answer(version: 1)
        let answered = answer.seq
        #expect(answer.body["status"] as? String == "applied", "\(answer.body)")
        let hash = try #require(answer.body["configHash"] as? String)
        #expect(hash != before)
        try await unit.subscriber.waitFor("a report after it") { _ in unit.reports.contains { $0.seq > answered } }
        #expect(unit.reports.filter { $0.seq > answered }.allSatisfy { $0.configHash == hash })
        #expect(FileManager.default.fileExists(atPath: unit.overlayPath))
        #expect(!FileManager.default.fileExists(atPath: unit.overlayPath + ".previous"))
        let onlines = unit.subscriber.rawMessages.filter { $0.topic == unit.base + "/availability" && $0.payload == "online" }
        #expect(onlines.count == 2, "the new settings need a new connection")
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
    }

    @Test("a document refused while a connection change is being confirmed is taken when the cloud sends it again after the answer")
    func refusedWhileConfirmingTakenWhenSentAgain() async throws {
        let unit = try await Unit(device: "remote-resend")
        defer { unit.close() }
        let daemon = try await unit.start("run")
        try await unit.subscriber.waitFor("a report") { _ in unit.reports.count >= 1 }

        // Both arrive on the old connection, the second before the first one's reload has opened
        // the new connection, so the second meets the first one still waiting for its confirmation.
        let second = #"{"version": 2, "mqtt": {"keepalive": "30s"}, "slots": [{"id": "water", "low_threshold": 200}]}"#
        try unit.desire(#"{"version": 1, "mqtt": {"keepalive": "30s"}}"#)
        try unit.desire(second)
        let refused = try await unit.answer(version: 2)
        #expect(refused.body["status"] as? String == "rejected", "\(refused.body)")
        let problems = refused.body["problems"] as? [[String: Any]] ?? []
        #expect((problems.first?["message"] as? String)?.contains("still being confirmed") == true, "\(problems)")
        let first = try await unit.answer(version: 1)
        #expect(first.body["status"] as? String == "applied", "\(first.body)")

        // Sent again after the answer, as the problem says: taken now, not mistaken for answered.
        try unit.desire(second)
        let applied: @Sendable () -> (seq: UInt64, body: [String: Any])? = {
            unit.answers.first { ($0.body["version"] as? NSNumber)?.intValue == 2 && $0.body["status"] as? String == "applied" }
        }
        try await waitUntil("version 2 applied") { applied() != nil }
        let answer = try #require(applied())
        let hash = try #require(answer.body["configHash"] as? String)
        #expect(hash != first.body["configHash"] as? String)
        #expect(try String(contentsOfFile: unit.overlayPath, encoding: .utf8) == second)
        let answered = answer.seq
        try await unit.subscriber.waitFor("a report after it") { _ in unit.reports.contains { $0.seq > answered } }
        #expect(unit.reports.filter { $0.seq > answered }.allSatisfy { $0.configHash == hash })
        unit.stop(daemon)
        #expect(daemon.terminationStatus == 0)
    }

    @Test("SIGKILL in the window of a connection change: the restart is on the tentative change, which is rolled back and reported")
    func killedWhileTentative() async throws {
        let unit = try await Unit(device: "remote-kill-tentative", extra: Self.quickConfirmation)
        defer { unit.close() }
        let first = try await unit.start("first")
        try await unit.subscriber.waitFor("a report") { _ in unit.reports.count >= 1 }
        let before = try #require(unit.reports.last).configHash
        try unit.desire(#"{"version": 1, "mqtt": {"url": "mqtt://127.0.0.1:1"}}"#)
        try await waitUntil("the change tentative on disk") {
            FileManager.default.fileExists(atPath: unit.overlayPath + ".previous")
        }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(unit.answers.isEmpty)

        let second = try await unit.start("second")
        let answer = try await unit.answer(version: 1)
        let answered = answer.seq
        #expect(answer.body["status"] as? String == "rolled-back", "\(answer.body)")
        #expect(answer.body["configHash"] as? String == before)
        try await unit.subscriber.waitFor("a report after the rollback") { _ in unit.reports.contains { $0.seq > answered } }
        #expect(unit.reports.filter { $0.seq > answered }.allSatisfy { $0.configHash == before })
        #expect(!FileManager.default.fileExists(atPath: unit.overlayPath))
        unit.stop(second)
        #expect(second.terminationStatus == 0)
    }
}
