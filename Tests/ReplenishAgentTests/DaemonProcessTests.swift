import Foundation
@testable import ReplenishAgent
import ReplenishMQTT
import ReplenishStore
import Testing
import ReplenishTestSupport

/// The real executable, as systemd would run it.
@Suite("the replenishd process", .serialized)
struct DaemonProcessTests {
    /// Starts `replenishd` with `arguments`, its output in files of `directory`.
    static func launch(_ arguments: [String], in directory: TemporaryDirectory, name: String) throws -> ChildProcess {
        try ChildProcess(try replenishdExecutable(), arguments,
                         stdout: .file(directory.path(name + ".out")), stderr: .file(directory.path(name + ".err")))
    }

    static func run(_ arguments: [String], in directory: TemporaryDirectory) throws -> (status: Int32, stderr: String) {
        let process = try launch(arguments, in: directory, name: "cmd")
        process.waitUntilExit()
        let stderr = (try? String(contentsOfFile: directory.path("cmd.err"), encoding: .utf8)) ?? ""
        return (process.terminationStatus, stderr)
    }

    @Test("after SIGKILL and a restart no committed report is lost and seq continues without repeating")
    func sigkillLosesNothing() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start(persistence: true)
        defer { broker.stop() }
        let database = directory.path("state.db")
        let configPath = directory.path("replenishd.yaml")
        try testConfig(deviceID: "kill-test", broker: broker, database: database, every: "1h")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        let subscriber = try Subscriber(broker: broker, base: "replenish/v1/kill-test")
        defer { subscriber.stop() }
        try await subscriber.ready()

        // One simulated hour per 0.5 s: a report every half second.
        let arguments = ["run", "--config", configPath, "--simulate", "--time-scale", "7200"]
        let first = try Self.launch(arguments, in: directory, name: "first")
        try await subscriber.waitFor("a few reports", within: .seconds(30)) { $0.count >= 4 }
        kill(first.processIdentifier, SIGKILL)
        first.waitUntilExit()
        #expect(first.terminationReason == .uncaughtSignal)

        let committed = try StateStore(path: database, readOnly: true).loadState().lastSeq
        #expect(committed >= 4)

        let second = try Self.launch(arguments, in: directory, name: "second")
        try await subscriber.waitFor("every committed report and newer ones", within: .seconds(30)) { messages in
            let seqs = Set(messages.map(\.seq))
            return seqs.isSuperset(of: 1...committed) && seqs.contains(committed + 2)
        }
        kill(second.processIdentifier, SIGTERM)
        second.waitUntilExit()
        #expect(second.terminationStatus == 0)

        // No seq was ever issued twice: every copy of a seq is the same message.
        let bySeq = Dictionary(grouping: subscriber.messages, by: \.seq)
        for (seq, copies) in bySeq {
            #expect(Set(copies.map(\.json)).count == 1, "seq \(seq) was issued for different messages")
        }
        let seqs = subscriber.distinctSeqs.sorted()
        #expect(seqs == Array(1...seqs.last!))
    }

    static let profiles = ["coffee-machine.yaml", "laser-printer.yaml", "water-filter.yaml", "battery-camera.yaml"]

    static func profile(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Hardware/profiles/\(name)").path
    }

    @Test("probe names what it cannot open and exits 1, without hardware", arguments: [
        ("coffee-machine.yaml", "no GPIO chip 'gpiochip0'"),
        ("battery-camera.yaml", "no I2C bus /dev/i2c-1"),
    ])
    func probeWithoutHardware(profile: String, message: String) throws {
        // This machine has no GPIO chips or I2C buses; the emulated board has (Hardware/emulator).
        guard !FileManager.default.fileExists(atPath: "/dev/gpiochip0"), !FileManager.default.fileExists(atPath: "/dev/i2c-1")
        else { return }
        let directory = try TemporaryDirectory()
        let process = try Self.launch(["probe", "--config", Self.profile(profile)], in: directory, name: "probe")
        process.waitUntilExit()
        let output = try String(contentsOfFile: directory.path("probe.out"), encoding: .utf8)
        #expect(process.terminationStatus == 1)
        #expect(output.contains("ERROR \(message)"), "\(output)")
    }

    @Test("check accepts the shipped profiles", arguments: profiles)
    func checkProfiles(profile: String) throws {
        let directory = try TemporaryDirectory()
        // check also verifies the database's directory: point it at one that exists here.
        let copy = directory.path(profile)
        try String(contentsOfFile: Self.profile(profile), encoding: .utf8)
            .replacingOccurrences(of: "/var/lib/replenishd/state.db", with: directory.path("state.db"))
            .write(toFile: copy, atomically: true, encoding: .utf8)
        let result = try Self.run(["check", "--config", copy], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
    }

    @Test("check --file-only passes a profile written for another board; check in full names its missing directory")
    func checkFileOnly() throws {
        let directory = try TemporaryDirectory()
        let copy = directory.path("coffee-machine.yaml")
        try String(contentsOfFile: Self.profile("coffee-machine.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "/var/lib/replenishd/state.db", with: directory.path("absent/state.db"))
            .write(toFile: copy, atomically: true, encoding: .utf8)
        let full = try Self.run(["check", "--config", copy], in: directory)
        #expect(full.status == 78)
        #expect(full.stderr.contains("storage.path: the database's directory \(directory.path("absent")) does not exist"), "\(full.stderr)")
        let fileOnly = try Self.run(["check", "--file-only", "--config", copy], in: directory)
        #expect(fileOnly.status == 0, "\(fileOnly.stderr)")
    }

    @Test("check and run exit 78 with file, line, column and key on a bad config", arguments: ["check", "run"])
    func badConfigExits78(command: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("bad.yaml")
        try """
        device:
          id: bad-1
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
            capacity: -3
            source:
              driver: simulated
        """.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try Self.run([command, "--config", path], in: directory)
        #expect(result.status == 78)
        #expect(result.stderr.contains("bad.yaml:13:15: slots[0].capacity: expected a positive number, got -3"),
                "\(result.stderr)")
    }
}

@Suite("replenishd demo")
struct DemoCommandTests {
    @Test("every profile runs simulated against a broker and accounts for every message",
          arguments: DaemonProcessTests.profiles)
    func demoAccountsForEverything(profileName: String) async throws {
        let directory = try TemporaryDirectory()
        let profile = DaemonProcessTests.profile(profileName)
        let process = try DaemonProcessTests.launch(["demo", "--days", "3", "--profile", profile],
                                                    in: directory, name: "demo")
        // Awaited, not waited for: a blocked cooperative thread for the demo's 20 s under load
        // starves every other test's deadlines (two cores, two threads).
        try await process.exited(within: .seconds(300))
        let output = try String(contentsOfFile: directory.path("demo.out"), encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(output)")
        #expect(output.contains("Day  3 "))
        let summary = try Self.summaryAccountsForEverySeq(output)
        #expect(summary.contains("3 days simulated"))
        // Alexa hears of consumption only when something was used (issue 18).
        let alexa = try #require(output.split(separator: "\n").first { $0.contains("InventoryConsumed event") })
        #expect(alexa.contains(", 0 of them with nothing used;"), "\(alexa)")
    }

    @Test("the demo shows the replenishment cycle: request, an order cancelled, the retry, shipment, delivery by refill")
    func demoShowsTheCycle() async throws {
        let directory = try TemporaryDirectory()
        let process = try DaemonProcessTests.launch(
            ["demo", "--days", "20", "--profile", DaemonProcessTests.profile("coffee-machine.yaml")],
            in: directory, name: "cycle")
        try await process.exited(within: .seconds(300))
        let output = try String(contentsOfFile: directory.path("cycle.out"), encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(output)")
        for step in ["reorder requested (forecast", "placed → cancelled", "none → placed", "placed → shipped",
                     "shipped → delivered", "0 gaps, 0 duplicates"] {
            #expect(output.contains(step), "missing '\(step)' in:\n\(output)")
        }
        #expect(!output.contains(" rejected: "), "\(output)")
    }

    @Test("on day 10 the demo's cloud lowers the bean hopper's low threshold over MQTT: applied, and a later report carries the new configHash")
    func demoAppliesTheCloudsConfiguration() async throws {
        let directory = try TemporaryDirectory()
        let capture = directory.path("capture.jsonl")
        let process = try DaemonProcessTests.launch(
            ["demo", "--days", "12", "--profile", DaemonProcessTests.profile("coffee-machine.yaml"), "--capture", capture],
            in: directory, name: "remote")
        try await process.exited(within: .seconds(300))
        let output = try String(contentsOfFile: directory.path("remote.out"), encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(output)")
        let lines = output.split(separator: "\n").map(String.init)
        func seq(in line: String) -> UInt64? {
            line.components(separatedBy: "seq ").dropFirst().first.flatMap { UInt64($0.prefix { $0.isNumber }) }
        }

        let sent = try #require(lines.firstIndex { $0.contains("☁ cloud sends config/desired version 1: beans low_threshold 20% → 10% (50.0 → 25.0 g)") },
                                "\(output)")
        let answered = try #require(lines.firstIndex { $0.contains("device answers on config/reported") }, "\(output)")
        #expect(sent < answered)
        let answer = lines[answered]
        #expect(answer.contains(": applied, version 1, configHash "), "\(answer)")
        let hash = try #require(answer.components(separatedBy: "configHash ").last)
        let answerSeq = try #require(seq(in: answer), "\(answer)")

        // Day 1 names the file's configuration; the first report after the answer names the new one.
        let days = lines.filter { $0.hasPrefix("Day ") }
        #expect(days.count == 12)
        #expect(days.first?.contains("(local file)") == true, "\(days)")
        let changed = days.filter { $0.contains("  config ") }
        #expect(changed.count == 2, "\(days)")
        let applied = try #require(changed.last)
        #expect(applied.contains("config \(hash) (local + remote version 1)"), "\(applied)")
        let appliedSeq = try #require(seq(in: applied))
        #expect(appliedSeq > answerSeq, "\(applied) after \(answer)")
        #expect(days.filter { (seq(in: $0) ?? 0) < answerSeq }.count >= 10, "sent after day 10: \(days)")
        #expect(days.first { (seq(in: $0) ?? 0) > answerSeq } == applied, "the first report after the answer uses it: \(days)")

        // lowSupply carries the threshold in force: the file's before the answer, the cloud's after.
        for (index, line) in lines.enumerated() where line.contains("beans low: ") {
            #expect(line.contains(index < answered ? "(threshold 50.0)" : "(threshold 25.0)"), "\(line)")
        }

        let summary = try Self.summaryAccountsForEverySeq(output)
        #expect(summary.contains("12 days simulated"))
        #expect(summary.contains(" and 1 configuration answer received"), "\(summary)")
        let effect = try #require(lines.first { $0.hasPrefix("  remote configuration: ") }, "\(output)")
        #expect(effect.hasPrefix("  remote configuration: version 1 applied before day 1"), "\(effect)")

        // The capture holds the desired document as sent (retained) and the device's answer.
        let captured = try String(contentsOfFile: capture, encoding: .utf8).split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        let desired = captured.filter { ($0["topic"] as? String)?.hasSuffix("/config/desired") == true }
        #expect(desired.count == 1)
        #expect(desired.first?["retained"] as? Bool == true)
        #expect((desired.first?["payload"] as? String)?.contains(#""low_threshold": "10%""#) == true)
        #expect(captured.filter { ($0["topic"] as? String)?.hasSuffix("/config/reported") == true }.count == 1)
    }

    @Test("the demo's config file reads back as the profile with only the demo's settings changed", arguments: DaemonProcessTests.profiles)
    func demoConfigFileKeepsTheProfile(profileName: String) throws {
        let directory = try TemporaryDirectory()
        let profilePath = DaemonProcessTests.profile(profileName)
        var expected = try ConfigLoader.load(path: profilePath)
        let broker = BrokerURL(tls: false, host: "127.0.0.1", port: 18_830)
        let written = directory.path("replenishd.yaml")
        try DemoConfigFile.write(profile: String(contentsOfFile: profilePath, encoding: .utf8), profilePath: profilePath,
                                 overrides: DemoRun.overrides(expected, database: directory.path("state.db"), broker: broker),
                                 to: written)
        var loaded = try ConfigLoader.loadForRun(path: written)
        #expect(loaded.storage.path == directory.path("state.db"))
        #expect(loaded.mqtt.url == broker)
        // The profiles leave every slot to the cloud; the demo's own pick reorders itself.
        let device = loaded.slots.filter { $0.replenishment.mode == .device }
        #expect(device.map(\.definition.id) == [expected.slots.last { $0.definition.sensor == .level && $0.definition.lowThreshold != nil }?.definition.id].compactMap { $0 })
        #expect(device.allSatisfy { $0.replenishment.leadTimeDays == 2 && $0.replenishment.safetyMarginDays == 1 })
        expected.storage.path = loaded.storage.path
        expected.mqtt.url = broker
        for index in loaded.slots.indices where loaded.slots[index].replenishment.mode == .device {
            loaded.slots[index].replenishment = expected.slots[index].replenishment
        }
        loaded.configHash = expected.configHash
        #expect(loaded == expected)
    }

    /// The summary line, once it says every seq the listener heard came in order, once, without
    /// a gap, and the broker acknowledged every seq at least up to the last one heard (the stop
    /// may come before the listener has the last messages the device sent), none left behind.
    static func summaryAccountsForEverySeq(_ output: String) throws -> Substring {
        let summary = try #require(output.split(separator: "\n").first { $0.contains("days simulated") }, "\(output)")
        #expect(summary.contains("in order, 0 gaps, 0 duplicates;"), "\(summary)")
        #expect(summary.contains(", 0 left in the outbox"), "\(summary)")
        func number(after marker: String) -> UInt64? {
            summary.components(separatedBy: marker).dropFirst().first.flatMap { UInt64($0.prefix { $0.isNumber }) }
        }
        let received = try #require(number(after: "…"), "\(summary)")
        let acknowledged = try #require(number(after: "the broker acknowledged "), "\(summary)")
        #expect(number(after: "(last seq ") == acknowledged, "\(summary)")
        #expect(acknowledged >= received, "\(summary)")
        return summary
    }
}
