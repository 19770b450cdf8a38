import Foundation
import ReplenishCore
import Testing
@testable import ReplenishAgent

/// A desired document checked and merged over the local file, without a broker: positions in the
/// document, the remote-settable list, versions, and the overlay's atomic write.
@Suite("Desired configuration documents")
struct RemoteDocumentTests {
    /// A local file in a fresh directory (its database directory exists, so `loadForRun` passes).
    struct Local {
        let directory: TemporaryDirectory
        let path: String

        init() throws {
            directory = try TemporaryDirectory()
            path = directory.path("replenishd.yaml")
            try """
            device:
              id: remote-unit
            mqtt:
              url: mqtt://127.0.0.1:1883
            storage:
              path: \(directory.path("state.db"))
            report:
              daily_at: "03:00"
            slots:
              - id: water
                sensor: level
                measurement: {type: Volume, unit: MILLILITER}
                capacity: 1800
                low_threshold: 10%
                source: {driver: simulated}
              - id: pods
                sensor: usage
                measurement: {type: Count}
                capacity: 50
                source: {driver: simulated}
            """.write(toFile: path, atomically: true, encoding: .utf8)
        }

        var file: AgentConfig { get throws { try ConfigLoader.loadForRun(path: path) } }

        func evaluate(_ document: String, inForce: AgentConfig? = nil) throws -> DesiredConfig.Decision {
            DesiredConfig.evaluate(Array(document.utf8), configPath: path, inForce: try inForce ?? file)
        }
    }

    static func problems(_ decision: DesiredConfig.Decision) -> [ConfigDiagnostic] {
        guard case let .rejected(_, problems) = decision else { return [] }
        return problems
    }

    @Test("a threshold in JSON is merged over the file: the rest stays the file's, the hash changes")
    func thresholdMerged() throws {
        let local = try Local()
        let decision = try local.evaluate(#"{"version": 2, "slots": [{"id": "pods", "low_threshold": 5}]}"#)
        guard case let .accepted(config, document) = decision else {
            Issue.record("not accepted: \(decision)")
            return
        }
        #expect(document.version == 2)
        #expect(config.remoteVersion == 2)
        #expect(config.slots[1].definition.lowThreshold == 5)
        #expect(config.slots[0].definition.lowThreshold == 180)
        #expect(config.configHash != (try local.file).configHash)
    }

    @Test("a bad value is rejected at its line and column in the document, with check's message")
    func badValuePositioned() throws {
        let local = try Local()
        let yaml = "version: 3\nslots:\n  - id: water\n    low_threshold: 300%\n"
        let problems = Self.problems(try local.evaluate(yaml))
        #expect(problems.count == 1)
        let problem = try #require(problems.first)
        #expect(problem.file == "config/desired")
        #expect((problem.line, problem.column) == (4, 20))
        #expect(problem.keyPath == "slots[0].low_threshold")
        #expect(problem.message.contains("expected a quantity from 0 to the capacity (1800)"), "\(problem)")

        // The slot the document gives first is its slots[0], whichever the file's index.
        let json = #"{"version": 3, "slots": [{"id": "pods", "forecast_days": 400}]}"#
        let second = try #require(Self.problems(try local.evaluate(json)).first)
        #expect(second.keyPath == "slots[0].forecast_days")
        #expect((second.line, second.column) == (1, 58))
    }

    @Test("local-only keys, secrets, unknown slots and keys, and stale versions are refused, every one")
    func refusals() throws {
        let local = try Local()
        let doc = """
        version: 4
        device: {id: other}
        storage: {path: /tmp/elsewhere.db}
        mqtt: {key_file: /tmp/k}
        slots:
          - id: water
            capacity: 10
            api_token: abc
            alexa_friendly_name: "-----BEGIN PRIVATE KEY-----"
          - id: milk
            low_threshold: 1
        report: {dayly_at: "04:00"}
        """
        let problems = Self.problems(try local.evaluate(doc))
        let byKey = Dictionary(problems.map { ($0.keyPath, $0.message) }, uniquingKeysWith: { $0 + " | " + $1 })
        #expect(byKey["device.id"]?.contains("not remote-settable") == true, "\(problems)")
        #expect(byKey["storage.path"]?.contains("not remote-settable") == true)
        #expect(byKey["mqtt.key_file"]?.contains("not remote-settable") == true)
        #expect(byKey["slots[0].capacity"]?.contains("not remote-settable") == true)
        #expect(byKey["slots[0].api_token"]?.contains("secrets never travel") == true)
        #expect(byKey["slots[0].alexa_friendly_name"]?.contains("secrets never travel") == true)
        // A document the list refuses is not merged: the slot and key checks come with the merge.
        #expect(problems.allSatisfy { $0.file == "config/desired" })

        let unknownSlot = Self.problems(try local.evaluate("version: 4\nslots: [{id: milk, low_threshold: 1}]\n"))
        #expect(unknownSlot.first?.message.contains("no slot 'milk' in the local file") == true, "\(unknownSlot)")
        let unknownKey = Self.problems(try local.evaluate("version: 4\nreport: {dayly_at: \"04:00\"}\n"))
        #expect(unknownKey.count == 1)
        #expect(unknownKey.first?.message.contains("did you mean 'daily_at'?") == true, "\(unknownKey)")
        let noVersion = Self.problems(try local.evaluate("report: {daily_at: \"04:00\"}\n"))
        #expect(noVersion.first?.message.contains("missing required key 'version'") == true)

        // Not above the version in force: refused; the same document again is in force already.
        let applied = #"{"version": 7, "report": {"daily_at": "05:00"}}"#
        guard case let .accepted(inForce, _) = try local.evaluate(applied) else {
            Issue.record("not accepted")
            return
        }
        guard case .inForce(7) = try local.evaluate(applied, inForce: inForce) else {
            Issue.record("the same document is not recognised as in force")
            return
        }
        let stale = Self.problems(try local.evaluate(#"{"version": 7, "report": {"daily_at": "06:00"}}"#, inForce: inForce))
        #expect(stale.first?.keyPath == "version")
        #expect(stale.first?.message == "expected a version above 7, the version in force, got 7")
        #expect(!Self.problems(try local.evaluate(#"{"version": 6}"#, inForce: inForce)).isEmpty)
    }

    @Test("the overlay is merged at start and on reload; its problems leave the file alone in force")
    func overlayInForce() throws {
        let local = try Local()
        let file = try local.file
        let overlay = RemoteOverlay.path(for: file)
        #expect(overlay == local.directory.path("state.db.remote.yaml"))
        #expect(try RemoteOverlay.loadInForce(configPath: local.path).config == file)

        try RemoteOverlay.write(#"{"version": 3, "slots": [{"id": "water", "low_threshold": "20%"}]}"#, to: overlay)
        let merged = try RemoteOverlay.loadInForce(configPath: local.path)
        #expect(merged.overlayProblems == nil)
        #expect(merged.config.remoteVersion == 3)
        #expect(merged.config.slots[0].definition.lowThreshold == 360)

        // A file that no longer has the slot the overlay changes: the file alone, the reason named.
        let text = try String(contentsOfFile: local.path, encoding: .utf8)
        try text.replacingOccurrences(of: "id: water", with: "id: tank").write(toFile: local.path, atomically: true, encoding: .utf8)
        let fallback = try RemoteOverlay.loadInForce(configPath: local.path)
        #expect(fallback.config.remoteVersion == nil)
        let problem = try #require(fallback.overlayProblems?.diagnostics.first)
        #expect(problem.file == overlay)
        #expect(problem.message.contains("no slot 'water'"), "\(problem)")
        #expect(throws: AgentError.self) { try RemoteOverlay.loadInForceOrThrow(configPath: local.path) }
    }

    @Test("the overlay write stopped after any step leaves the old overlay or the new one, whole")
    func atomicWrite() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("state.db.remote.yaml")
        let old = #"{"version": 1, "report": {"every": "6h"}}"#
        let new = #"{"version": 2, "report": {"every": "2h"}, "slots": [{"id": "water", "low_threshold": "25%"}]}"#
        struct PowerCut: Error {}
        for step in RemoteOverlay.Step.allCases {
            try RemoteOverlay.write(old, to: path)
            #expect(throws: PowerCut.self) {
                try RemoteOverlay.write(new, to: path) { if $0 == step { throw PowerCut() } }
            }
            let found = try String(contentsOfFile: path, encoding: .utf8)
            #expect(found == (step == .renamed ? new : old), "stopped after \(step)")
            guard case let .success(document?) = RemoteOverlay.read(path) else {
                Issue.record("the overlay cannot be read after \(step)")
                continue
            }
            #expect(document.version == (step == .renamed ? 2 : 1))
        }
        // A temporary file left by a stop is replaced by the next write.
        try RemoteOverlay.write(new, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == new)
    }

    @Test("a tentative overlay keeps the one that connected: rolled back it returns, confirmed it stays")
    func tentativeOverlay() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("state.db.remote.yaml")
        let old = #"{"version": 1, "report": {"every": "6h"}}"#
        let new = #"{"version": 2, "mqtt": {"keepalive": "30s"}}"#

        // From the file alone: a rollback removes the overlay.
        try RemoteOverlay.writeTentative(new, to: path)
        #expect(RemoteOverlay.isTentative(path))
        try RemoteOverlay.rollBack(path)
        #expect(!FileManager.default.fileExists(atPath: path))
        #expect(!RemoteOverlay.isTentative(path))

        // Over an overlay: a rollback restores it, a confirmation keeps the new one.
        try RemoteOverlay.write(old, to: path)
        try RemoteOverlay.writeTentative(new, to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == new)
        try RemoteOverlay.rollBack(path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == old)
        try RemoteOverlay.writeTentative(new, to: path)
        try RemoteOverlay.confirm(path)
        #expect(!RemoteOverlay.isTentative(path))
        #expect(try String(contentsOfFile: path, encoding: .utf8) == new)
    }

    @Test("at start a tentative overlay the file no longer takes is rolled back to the one that connected")
    func tentativeRolledBackAtStart() throws {
        let local = try Local()
        let overlay = RemoteOverlay.path(for: try local.file)
        try RemoteOverlay.write(#"{"version": 1, "report": {"every": "6h"}}"#, to: overlay)
        try RemoteOverlay.writeTentative(#"{"version": 2, "mqtt": {"keepalive": "30s"}, "slots": [{"id": "water", "low_threshold": 9}]}"#,
                                         to: overlay)
        #expect(try RemoteOverlay.loadForStart(configPath: local.path).config.remoteTentative)
        let text = try String(contentsOfFile: local.path, encoding: .utf8)
        try text.replacingOccurrences(of: "id: water", with: "id: tank").write(toFile: local.path, atomically: true, encoding: .utf8)
        let started = try RemoteOverlay.loadForStart(configPath: local.path)
        #expect(started.overlayProblems == nil)
        #expect(started.config.remoteVersion == 1)
        #expect(!started.config.remoteTentative)
        #expect(!RemoteOverlay.isTentative(overlay))
    }

    @Test("a power cut inside a rollback to the file alone leaves no tentative mark on the next overlay")
    func cutInsideRollbackSettledAtStart() throws {
        let local = try Local()
        let overlay = RemoteOverlay.path(for: try local.file)
        // A connection change from the file alone, then its rollback cut between its two unlinks
        // (or the tentative write cut between its two writes): `.previous` empty, no overlay.
        try RemoteOverlay.writeTentative(#"{"version": 1, "mqtt": {"keepalive": "30s"}}"#, to: overlay)
        try FileManager.default.removeItem(atPath: overlay)
        let started = try RemoteOverlay.loadForStart(configPath: local.path)
        #expect(started.config.remoteVersion == nil)
        #expect(!RemoteOverlay.isTentative(overlay), "the file alone is in force, nothing waits for a confirmation")

        // A threshold change kept afterwards is no connection change: not tentative after a restart,
        // so a broker out of reach at that start cannot roll it back to the file alone.
        try RemoteOverlay.write(#"{"version": 2, "slots": [{"id": "water", "low_threshold": 9}]}"#, to: overlay)
        let restarted = try RemoteOverlay.loadForStart(configPath: local.path)
        #expect(restarted.config.remoteVersion == 2)
        #expect(!restarted.config.remoteTentative)
    }
}
