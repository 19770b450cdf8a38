import Foundation
import ReplenishMQTT
import ReplenishStore
import ReplenishSystemd
import ReplenishTestSupport
import Testing

/// SIGHUP against the real executable: a valid config takes over without losing counts, an
/// invalid one is refused with `check`'s messages and the running one carries on.
@Suite("SIGHUP reload", .serialized)
struct ReloadTests {
    /// A status report's config hash and each slot's `consumedTotal`.
    static func status(_ message: ReceivedMessage) -> (configHash: String, totals: [String: Double])? {
        guard message.topic.hasSuffix("/status"),
              let object = try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any],
              let hash = object["configHash"] as? String, let slots = object["slots"] as? [[String: Any]]
        else { return nil }
        var totals: [String: Double] = [:]
        for slot in slots {
            if let id = slot["slot"] as? String { totals[id] = (slot["consumedTotal"] as? NSNumber)?.doubleValue ?? 0 }
        }
        return (hash, totals)
    }

    static let filterSlot = """
      - id: filter
        sensor: level
        measurement: {type: Volume, unit: LITER}
        capacity: 200
        source:
          driver: simulated
          sample_every: 10m
    """

    struct Running {
        let directory: TemporaryDirectory
        let broker: TestBroker
        let subscriber: Subscriber
        let notify: NotificationListener
        let configPath: String
        let process: ChildProcess

        init(device: String) async throws {
            directory = try TemporaryDirectory()
            broker = try TestBroker.start(persistence: false)
            configPath = directory.path("replenishd.yaml")
            try testConfig(deviceID: device, broker: broker, database: directory.path("state.db"), every: "1h")
                .write(toFile: configPath, atomically: true, encoding: .utf8)
            subscriber = try Subscriber(broker: broker, base: "replenish/v1/\(device)")
            try await subscriber.ready()
            notify = try NotificationListener(directory: directory.url.path)
            var environment = ProcessInfo.processInfo.environment
            environment["NOTIFY_SOCKET"] = notify.path
            // One simulated hour per 0.5 s: a report every half second.
            process = try ChildProcess(try replenishdExecutable(),
                                       ["run", "--config", configPath, "--simulate", "--time-scale", "7200"],
                                       environment: environment, stdout: .null, stderr: .file(directory.path("err")))
            let ready = ContinuousClock.now
            let readied = await notify.next(where: { $0.hasPrefix("READY=1") }, within: 60)
            #expect(readied != nil, "no READY=1 within \(ContinuousClock.now - ready); the daemon's log:\n\(stderr.suffix(3000))")
        }

        var stderr: String { (try? String(contentsOfFile: directory.path("err"), encoding: .utf8)) ?? "" }
        var reports: [(configHash: String, totals: [String: Double])] { subscriber.messages.compactMap(ReloadTests.status) }

        func stop() {
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            subscriber.stop()
            broker.stop()
        }
    }

    @Test("a valid new config takes effect on SIGHUP; counts carry on and seq continues")
    func validReload() async throws {
        let run = try await Running(device: "reload-ok")
        try await run.subscriber.waitFor("a few reports") { $0.compactMap(Self.status).count >= 3 }
        let before = try #require(run.reports.last)
        #expect(before.totals["filter"] == nil)

        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        try (config + "\n" + Self.filterSlot).write(toFile: run.configPath, atomically: true, encoding: .utf8)
        kill(run.process.processIdentifier, SIGHUP)
        #expect(await run.notify.next(where: { $0.hasPrefix("RELOADING=1") }, within: 60) != nil)
        #expect(await run.notify.next(where: { $0.hasPrefix("READY=1") }, within: 60) != nil)
        try await run.subscriber.waitFor("a report with the new slot") {
            $0.compactMap(Self.status).contains { $0.totals["filter"] != nil }
        }
        let after = try #require(run.reports.last { $0.totals["filter"] != nil })
        #expect(after.configHash != before.configHash)
        // The usage slot's meter went on from where it was; it never restarted from zero.
        #expect(after.totals["pods"]! >= before.totals["pods"]!)
        #expect(after.totals["pods"]! > 0)
        #expect(run.process.isRunning)
        run.stop()
        #expect(run.process.terminationStatus == 0)
        #expect(run.stderr.contains("configuration reloaded"), "\(run.stderr)")
        let seqs = run.subscriber.distinctSeqs
        #expect(seqs == Array(1...UInt64(seqs.count)), "seq must continue without gaps or repeats")
    }

    @Test("an invalid config is refused with check's messages and the running one carries on")
    func invalidReload() async throws {
        let run = try await Running(device: "reload-bad")
        try await run.subscriber.waitFor("a report") { $0.compactMap(Self.status).count >= 1 }
        let hash = try #require(run.reports.first).configHash

        let config = try String(contentsOfFile: run.configPath, encoding: .utf8)
        try config.replacingOccurrences(of: "capacity: 1800", with: "capacity: -3")
            .write(toFile: run.configPath, atomically: true, encoding: .utf8)
        kill(run.process.processIdentifier, SIGHUP)
        // The refusal line comes first, then one line per problem: wait for the one expected.
        try await waitUntil("the refusal logged") {
            run.stderr.contains("configuration rejected") && run.stderr.contains("slots[0].capacity:")
        }
        #expect(run.stderr.contains("replenishd.yaml:"), "\(run.stderr)")
        #expect(run.stderr.contains("slots[0].capacity: expected a positive number, got -3"), "\(run.stderr)")

        let count = run.reports.count
        try await run.subscriber.waitFor("reports after the refusal") { $0.compactMap(Self.status).count >= count + 2 }
        #expect(run.reports.allSatisfy { $0.configHash == hash })
        #expect(run.process.isRunning)
        run.stop()
        #expect(run.process.terminationStatus == 0)
    }

    @Test("SIGUSR1 switches debug logging on and off without a restart")
    func debugToggle() async throws {
        let run = try await Running(device: "usr1")
        kill(run.process.processIdentifier, SIGUSR1)
        try await waitUntil("debug on") { run.stderr.contains("log level is now debug") }
        try await waitUntil("debug lines") { run.stderr.contains(" debug ") }
        kill(run.process.processIdentifier, SIGUSR1)
        try await waitUntil("debug off") { run.stderr.contains("log level is now info") }
        #expect(run.process.isRunning)
        run.stop()
        #expect(run.process.terminationStatus == 0)
    }
}
