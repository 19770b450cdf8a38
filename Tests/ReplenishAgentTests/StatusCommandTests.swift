import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishStore
import Testing

/// `replenishd status` against real SQLite files with a known state.
@Suite("replenishd status")
struct StatusCommandTests {
    static let now = Date(timeIntervalSince1970: 1_795_000_000)  // 2026-11-18T11:06:40Z
    static let utc = LocalZone.utc

    static func config(_ directory: TemporaryDirectory) throws -> AgentConfig {
        try ConfigLoader.parse("""
        device:
          id: coffee-01
          timezone: UTC
          has_rtc: true
        mqtt:
          url: mqtt://127.0.0.1:1883
        storage:
          path: \(directory.path("state.db"))
        report:
          daily_at: "03:00"
        slots:
          - id: beans
            sensor: level
            measurement: {type: Weight, unit: GRAM}
            capacity: 1000
            source: {driver: simulated}
            replenishment: {mode: device}
          - id: water
            sensor: level
            measurement: {type: Volume, unit: MILLILITER}
            capacity: 1800
            source: {driver: simulated}
        """, fileName: "status.yaml")
    }

    /// Beans used 100 g a day for four days (1000 → 600); water never read.
    static func beansLedger(_ definition: SlotDefinition) -> SlotLedger {
        var ledger = SlotLedger()
        for day in 0...4 {
            let at = now.addingTimeInterval(Double(day - 5) * 86_400)
            _ = ledger.apply(Reading(slot: "beans", at: at, observation: .level(1000 - Double(day) * 100)),
                             definition: definition, zone: utc)
        }
        return ledger
    }

    /// A database as the daemon leaves it: ledgers, a policy, the runtime snapshot, three queued messages.
    static func writeState(_ config: AgentConfig, running: Bool = true, connected: Bool = true) throws {
        let store = try StateStore(path: config.storage.path)
        let beans = config.slots[0]
        let snapshot = RuntimeSnapshot(
            pid: getpid(), running: running, startedAt: now.addingTimeInterval(-3 * 3600 - 720),
            updatedAt: now.addingTimeInterval(-60),
            broker: .init(url: config.mqtt.url.description, connected: connected, since: now.addingTimeInterval(-7200),
                          lastError: connected ? nil : "connection refused"),
            health: ["beans": "ok", "water": "fault"])
        try store.commit { tx in
            try tx.setSlotState("beans", Array(try JSONEncoder().encode(beansLedger(beans.definition))))
            try tx.setValue(DeviceBook.Key.policy("beans"),
                            Array(try JSONEncoder().encode(ReplenishmentPolicy(settings: beans.replenishment))))
            try tx.setValue(RuntimeSnapshot.key, try snapshot.encoded())
            for minutes in [14.0, 9, 4] {
                let seq = try tx.nextSeq()
                try tx.enqueue(seq: seq, topic: "replenish/v1/coffee-01/status", kind: .status,
                               payload: Array(repeating: 0x20, count: 700),
                               createdAt: now.timeIntervalSince1970 - minutes * 60)
            }
        }
    }

    @Test("text: daemon, broker, outbox depth and oldest age, and per slot bar, remaining, consumption, forecast, state")
    func text() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        try Self.writeState(config)
        let status = try DeviceStatus.read(config: config, now: Self.now, isAlive: { _ in true })
        let lines = StatusText.render(status, zone: Self.utc).split(separator: "\n", omittingEmptySubsequences: false)
            .map(String.init)
        #expect(lines[0] == "replenishd \(AgentVersion.current) · device coffee-01 · config \(config.configHash) (local)")
        #expect(lines[1] == "daemon   running (pid \(getpid()), up 3 h 12 min)")
        #expect(lines[2] == "broker   connected to mqtt://127.0.0.1:1883 since 09:06 (2 h 0 min ago)")
        #expect(lines[3] == "outbox   3 messages, 2.1 KiB, oldest unsent 14 min ago (seq 1)")
        #expect(lines[6] == "beans    [######----]   60%  600 of 1000 g  ok")
        #expect(lines[7] == "         last day 100 g · avg 100 g/day · runs out ~2026-11-24")
        #expect(lines[8] == "         replenishment: device idle")
        #expect(lines[10] == "water    [??????????]    ?%  level unknown  fault")
        #expect(lines[11] == "         run-out unknown")
        #expect(lines[4] == "seq      3 issued · \(config.storage.path)")
        // 80 columns, but for the database path, which is as long as it is.
        #expect(lines.filter { !$0.hasPrefix("seq ") }.allSatisfy { $0.count <= 80 }, "\(lines.filter { $0.count > 80 })")
    }

    @Test("JSON carries the same facts under stable names")
    func json() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        try Self.writeState(config, connected: false)
        let status = try DeviceStatus.read(config: config, now: Self.now, isAlive: { _ in true })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(StatusJSON.render(status).utf8)) as? [String: Any])
        let broker = try #require(object["broker"] as? [String: Any])
        #expect(broker["connected"] as? Bool == false)
        #expect(broker["lastError"] as? String == "connection refused")
        let outbox = try #require(object["outbox"] as? [String: Any])
        #expect(outbox["messages"] as? Int == 3)
        #expect(outbox["bytes"] as? Int == 2100)
        #expect(outbox["oldestAgeSeconds"] as? Double == 840)
        #expect(outbox["oldestSeq"] as? Int == 1)
        let slots = try #require(object["slots"] as? [[String: Any]])
        #expect(slots.map { $0["slot"] as? String } == ["beans", "water"])
        #expect(slots[0]["remaining"] as? Double == 600)
        #expect(slots[0]["levelPercent"] as? Double == 60)
        #expect(slots[0]["averageDailyConsumption"] as? Double == 100)
        #expect(slots[0]["expectedRunOut"] as? String == "2026-11-24T11:06:40Z")
        #expect(slots[0]["replenishment"] as? String == "device idle")
        #expect(slots[1]["health"] as? String == "fault")
        #expect((object["daemon"] as? [String: Any])?["state"] as? String == "running")
    }

    @Test("a daemon recorded running whose process is gone, and one that stopped cleanly", arguments: [
        (true, "daemon   not running (pid \(getpid()) gone; last recorded 1 min ago)"),
        (false, "daemon   stopped cleanly 1 min ago"),
    ])
    func daemonGone(running: Bool, line: String) throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        try Self.writeState(config, running: running)
        let status = try DeviceStatus.read(config: config, now: Self.now, isAlive: { _ in false })
        let text = StatusText.render(status, zone: Self.utc)
        #expect(text.split(separator: "\n")[1] == line[...], "\(text)")
        // A stopped daemon is not connected, whatever it last recorded.
        #expect(status.broker.connected == false)
    }

    @Test("no database yet: a clear message, and nothing is created")
    func missingDatabase() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        #expect(throws: AgentError.self) { try DeviceStatus.read(config: config) }
        do { _ = try DeviceStatus.read(config: config) } catch let error as AgentError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("no state yet at \(config.storage.path)"))
        }
        #expect(!FileManager.default.fileExists(atPath: config.storage.path))
    }

    @Test("a recorded pid now held by another program is not the daemon")
    func pidReuse() {
        // This test process is alive but is not a replenishd (its name only starts like one).
        #expect(!DeviceStatus.processExists(getpid()))
        #expect(!DeviceStatus.processExists(0))
        #expect(!DeviceStatus.processExists(-1))
    }

    @Test("a database the user may not reach is reported as such, not as 'no state yet'")
    func unreachableDatabase() throws {
        let directory = try TemporaryDirectory()
        var config = try Self.config(directory)
        // A path through a regular file fails with ENOTDIR, as a closed directory fails with EACCES.
        FileManager.default.createFile(atPath: directory.path("file"), contents: Data())
        config.storage.path = directory.path("file") + "/state.db"
        do {
            _ = try DeviceStatus.read(config: config)
            Issue.record("expected an error")
        } catch let error as AgentError {
            #expect(error.code == .unreadable)
            #expect(error.message.contains("cannot read"), "\(error.message)")
        }
    }

    @Test("reads beside a writer that keeps the database open and writes after the reader opened")
    func besideAWriter() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        try Self.writeState(config)
        let writer = try StateStore(path: config.storage.path)
        let reader = try StateStore(path: config.storage.path, readOnly: true)
        try writer.commit { tx in
            let seq = try tx.nextSeq()
            try tx.enqueue(seq: seq, topic: "t", kind: .event, payload: [1], createdAt: Self.now.timeIntervalSince1970)
        }
        #expect(try reader.outboxStats().count == 4)
        let status = try DeviceStatus.read(config: config, now: Self.now, isAlive: { _ in true })
        #expect(status.outbox.messages == 4)
        #expect(status.lastSeq == 4)
        #expect(throws: StoreError.self) { try reader.commit { tx in _ = try tx.nextSeq() } }
    }

    @Test("the command: 0 with the report, 69 without a database, 78 on a bad config")
    func command() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let path = directory.path("status.yaml")
        let yaml = """
        device: {id: coffee-01, timezone: UTC}
        mqtt: {url: "mqtt://127.0.0.1:1883"}
        storage: {path: \(config.storage.path)}
        report: {daily_at: "03:00"}
        slots:
          - {id: beans, sensor: level, measurement: {type: Weight, unit: GRAM}, capacity: 1000, source: {driver: simulated}}
        """
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        var result = try DaemonProcessTests.run(["status", "--config", path], in: directory)
        #expect(result.status == 69)
        #expect(result.stderr.contains("no state yet at"), "\(result.stderr)")

        try Self.writeState(config)
        result = try DaemonProcessTests.run(["status", "--config", path], in: directory)
        #expect(result.status == 0, "\(result.stderr)")
        let output = try String(contentsOfFile: directory.path("cmd.out"), encoding: .utf8)
        #expect(output.contains("beans    [######----]   60%  600 of 1000 g  ok"), "\(output)")
        #expect(output.contains("outbox   3 messages"), "\(output)")

        result = try DaemonProcessTests.run(["status", "--config", path, "--json"], in: directory)
        let json = try String(contentsOfFile: directory.path("cmd.out"), encoding: .utf8)
        #expect(result.status == 0)
        #expect((try? JSONSerialization.jsonObject(with: Data(json.utf8))) != nil, "\(json)")

        try (yaml + "\n    capacity: -1").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(try DaemonProcessTests.run(["status", "--config", path], in: directory).status == 78)
    }
}
