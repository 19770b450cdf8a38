import Foundation
@testable import ReplenishAgent
import ReplenishStore
import Testing

/// `replenishd reset`: nothing deleted, and the fresh database never reuses a seq it can know of.
@Suite("replenishd reset")
struct DatabaseResetTests {
    static func config(_ directory: TemporaryDirectory, deviceID: String = "reset-01") throws -> AgentConfig {
        try ConfigLoader.parse("""
        device: {id: \(deviceID), timezone: UTC}
        mqtt: {url: "mqtt://127.0.0.1:1883"}
        storage: {path: \(directory.path("state.db"))}
        report: {daily_at: "03:00"}
        slots:
          - id: water
            sensor: level
            measurement: {type: Volume, unit: MILLILITER}
            capacity: 1800
            source: {driver: simulated}
        """, fileName: "reset.yaml")
    }

    static func copies(_ directory: TemporaryDirectory) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
            .filter { $0.hasPrefix("state.db.broken-") }.sorted()
    }

    @Test("a readable database is kept whole, and the fresh one continues after its last seq as the new device")
    func continuesSeqs() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory, deviceID: "reset-02")
        let path = config.storage.path
        do {
            let old = try StateStore(path: path, deviceID: "reset-01")
            for _ in 0..<7 {
                try old.commit { tx in
                    let seq = try tx.nextSeq()
                    try tx.enqueue(seq: seq, topic: "t", kind: .status, payload: [1], createdAt: 0)
                }
            }
        }
        let now = Date(timeIntervalSince1970: 1_796_000_000)  // 2026-11-30T00:53:20Z
        let lines = try DatabaseReset.run(config: config, configPath: "reset.yaml", now: now)
        #expect(lines.first == "found: the replenishd database of device \"reset-01\", last seq 7")
        #expect(try Self.copies(directory).contains("state.db.broken-20261130T005320Z"))
        #expect(lines.contains("kept \(path) as \(path).broken-20261130T005320Z"))
        let copy = try StateStore(path: path + ".broken-20261130T005320Z", readOnly: true)
        #expect(try copy.loadState().lastSeq == 7)
        #expect(try copy.outboxStats().count == 7)

        let fresh = try StateStore(path: path, deviceID: "reset-02")
        #expect(try DatabaseFile.inspect(path: path)?.deviceID == "reset-02")
        #expect(try fresh.pending(limit: 10).isEmpty)
        let next = try fresh.commit { tx in try tx.nextSeq() }
        #expect(next == 8)

        // A second reset in the same second gets its own copy.
        _ = try DatabaseReset.run(config: config, configPath: "reset.yaml", now: now)
        #expect(try Self.copies(directory).contains("state.db.broken-20261130T005320Z-2"))
    }

    @Test("an unreadable database starts at --first-seq, or at 1 with a warning")
    func unreadable() throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let path = config.storage.path
        _ = FileManager.default.createFile(atPath: path, contents: Data())
        let warned = try DatabaseReset.run(config: config, configPath: "reset.yaml")
        #expect(warned.contains { $0.hasPrefix("warning: the old database's last seq could not be read") }, "\(warned)")
        #expect(warned.contains("created a fresh database for device \"reset-01\" at \(path); its first seq is 1"))

        try Data("garbage".utf8).write(to: URL(fileURLWithPath: path))
        unlink(path + "-wal")
        unlink(path + "-shm")
        let chosen = try DatabaseReset.run(config: config, configPath: "reset.yaml", firstSeq: 5000)
        #expect(!chosen.contains { $0.hasPrefix("warning") })
        #expect(try StateStore(path: path, deviceID: "reset-01").commit { tx in try tx.nextSeq() } == 5000)
        #expect(try Self.copies(directory).count == 2)
    }
}
