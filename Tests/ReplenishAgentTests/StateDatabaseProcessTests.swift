import CSQLite3
import Foundation
import ReplenishMQTT
import ReplenishStore
import Synchronization
import Testing
import ReplenishTestSupport

/// The state database as the real executable meets it: a file that existed and is no longer a
/// database of this device is refused with exit 78 and what to do, `reset` is the explicit new
/// start, and one daemon runs per database.
@Suite("the replenishd process and its state database", .serialized)
struct StateDatabaseProcessTests {
    /// A config for `deviceID` on the database in `directory`, against a broker nobody listens on
    /// unless one is given: these refusals come before any connection.
    static func config(_ directory: TemporaryDirectory, deviceID: String = "db-test", broker: TestBroker? = nil) throws -> String {
        let path = directory.path("\(deviceID).yaml")
        let url = broker?.url ?? "mqtt://127.0.0.1:9"
        try """
        device:
          id: \(deviceID)
          timezone: UTC
        mqtt:
          url: \(url)
        storage:
          path: \(directory.path("state.db"))
        report:
          daily_at: "03:00"
        slots:
          - id: water
            sensor: level
            measurement: {type: Volume, unit: MILLILITER}
            capacity: 1800
            source:
              driver: simulated
              sample_every: 1s
        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    /// Runs `replenishd` to its end and answers its status, stdout and stderr; one that keeps
    /// running (a `run` that should have refused) is killed after 30 s and fails the test.
    static func run(_ arguments: [String], in directory: TemporaryDirectory) async throws -> (status: Int32, out: String, err: String) {
        let process = try DaemonProcessTests.launch(arguments, in: directory, name: "cmd")
        do {
            try await waitUntil("replenishd \(arguments.joined(separator: " ")) to exit", within: .seconds(30)) { !process.isRunning }
        } catch {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw error
        }
        process.waitUntilExit()
        let out = (try? String(contentsOfFile: directory.path("cmd.out"), encoding: .utf8)) ?? ""
        let err = (try? String(contentsOfFile: directory.path("cmd.err"), encoding: .utf8)) ?? ""
        return (process.terminationStatus, out, err)
    }

    /// Waits until the daemon `process` holds the database's lock (its pid is in the lock file).
    static func waitForLock(_ process: ChildProcess, database: String) async throws {
        let pid = process.processIdentifier
        try await waitUntil("the daemon to hold \(database).lock") {
            guard process.isRunning else { throw TimedOut(description: "the daemon exited with \(process.terminationStatus)") }
            return (try? String(contentsOfFile: database + ".lock", encoding: .utf8)) == "\(pid)\n"
        }
    }

    /// Waits until `status` sees the daemon `process` running: past start-up, signals handled.
    static func waitForRunning(_ process: ChildProcess, config: String, in directory: TemporaryDirectory) async throws {
        let deadline = ContinuousClock.now + .seconds(20)
        while true {
            guard process.isRunning else { throw TimedOut(description: "the daemon exited with \(process.terminationStatus)") }
            let status = try await Self.run(["status", "--config", config], in: directory)
            if status.status == 0 && status.out.contains("running (pid \(process.processIdentifier)") { return }
            guard ContinuousClock.now < deadline else { throw TimedOut(description: "status never saw the daemon running") }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("run refuses a 0-byte database with 78 and says to reset; status says the same, not SQLite's error")
    func emptyDatabase() async throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let database = directory.path("state.db")
        _ = FileManager.default.createFile(atPath: database, contents: Data())
        let run = try await Self.run(["run", "--config", config], in: directory)
        #expect(run.status == 78)
        #expect(run.err.contains("\(database) exists but is empty (0 bytes)"), "\(run.err)")
        #expect(run.err.contains("run `replenishd reset --config \(config)`"), "\(run.err)")
        #expect(FileManager.default.contents(atPath: database) == Data())
        let status = try await Self.run(["status", "--config", config], in: directory)
        #expect(status.status == 1)
        #expect(status.err.contains("exists but is empty (0 bytes)"), "\(status.err)")
        #expect(!status.err.contains("SQLite extended result code"), "\(status.err)")
    }

    @Test("run refuses a file that is not a database with 78")
    func garbageDatabase() async throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let database = directory.path("state.db")
        let garbage = Data((0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        try garbage.write(to: URL(fileURLWithPath: database))
        let run = try await Self.run(["run", "--config", config], in: directory)
        #expect(run.status == 78)
        #expect(run.err.contains("\(database) is not an SQLite database"), "\(run.err)")
        #expect(FileManager.default.contents(atPath: database) == garbage)
    }

    @Test("run refuses another program's SQLite database with 78 and leaves it byte for byte as it was")
    func foreignDatabase() async throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let database = directory.path("state.db")
        var db: OpaquePointer?
        try #require(sqlite3_open(database, &db) == SQLITE_OK)
        try #require(sqlite3_exec(db, "CREATE TABLE recipes (id, name); INSERT INTO recipes VALUES (1, 'flat white');",
                                  nil, nil, nil) == SQLITE_OK)
        sqlite3_close(db)
        let before = try #require(FileManager.default.contents(atPath: database))
        let run = try await Self.run(["run", "--config", config], in: directory)
        #expect(run.status == 78)
        #expect(run.err.contains("\(database) is an SQLite database of another program (tables: recipes)"), "\(run.err)")
        #expect(FileManager.default.contents(atPath: database) == before)
        #expect(!FileManager.default.fileExists(atPath: database + "-wal"))
    }

    @Test("reset keeps the refused file as a copy, and run then starts afresh and reports")
    func resetThenRun() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start()
        defer { broker.stop() }
        let config = try Self.config(directory, broker: broker)
        let database = directory.path("state.db")
        _ = FileManager.default.createFile(atPath: database, contents: Data())
        let reset = try await Self.run(["reset", "--config", config], in: directory)
        #expect(reset.status == 0, "\(reset.err)")
        #expect(reset.out.contains("found: the state database \(database) exists but is empty"), "\(reset.out)")
        let copies = try FileManager.default.contentsOfDirectory(atPath: directory.url.path)
            .filter { $0.hasPrefix("state.db.broken-") }
        #expect(copies.count == 1, "\(copies)")
        #expect(reset.out.contains("kept \(database) as \(directory.path(copies.first ?? "?"))"), "\(reset.out)")
        #expect(FileManager.default.contents(atPath: directory.path(copies.first ?? "?")) == Data())

        let subscriber = try Subscriber(broker: broker, base: "replenish/v1/db-test")
        defer { subscriber.stop() }
        try await subscriber.ready()
        let daemon = try DaemonProcessTests.launch(["run", "--config", config], in: directory, name: "daemon")
        try await subscriber.waitFor("the start-up report") { $0.contains { $0.seq == 1 } }
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
    }

    @Test("run refuses a database recorded for another device with 78, naming both ids; status says the same")
    func otherDevice() async throws {
        let directory = try TemporaryDirectory()
        let first = try Self.config(directory, deviceID: "dev-a")
        let daemon = try DaemonProcessTests.launch(["run", "--config", first], in: directory, name: "dev-a")
        try await Self.waitForRunning(daemon, config: first, in: directory)
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)

        let other = try Self.config(directory, deviceID: "dev-b")
        let run = try await Self.run(["run", "--config", other], in: directory)
        #expect(run.status == 78)
        #expect(run.err.contains("belongs to device \"dev-a\", but the config's device.id is \"dev-b\""), "\(run.err)")
        let status = try await Self.run(["status", "--config", other], in: directory)
        #expect(status.status == 1)
        #expect(status.err.contains("belongs to device \"dev-a\", but the config's device.id is \"dev-b\""), "\(status.err)")
    }

    @Test("a second run (or a reset) on the same database exits 75 naming the first one's pid; the first keeps running and status reads beside it")
    func secondDaemon() async throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let database = directory.path("state.db")
        let first = try DaemonProcessTests.launch(["run", "--config", config], in: directory, name: "first")
        defer { if first.isRunning { kill(first.processIdentifier, SIGKILL) } }
        try await Self.waitForLock(first, database: database)

        let second = try await Self.run(["run", "--config", config], in: directory)
        #expect(second.status == 75)
        #expect(second.err.contains("\(database) is in use by process \(first.processIdentifier)"), "\(second.err)")
        #expect(first.isRunning)
        let reset = try await Self.run(["reset", "--config", config], in: directory)
        #expect(reset.status == 75)
        #expect(reset.err.contains("in use by process \(first.processIdentifier)"), "\(reset.err)")
        #expect(first.isRunning)

        try await Self.waitForRunning(first, config: config, in: directory)
        kill(first.processIdentifier, SIGTERM)
        first.waitUntilExit()
        #expect(first.terminationStatus == 0)
    }

    @Test("under umask 0 the database, its log, shared memory, reserve and lock file are 0600")
    func modesUnderUmaskZero() async throws {
        let directory = try TemporaryDirectory()
        let config = try Self.config(directory)
        let database = directory.path("state.db")
        // The child inherits the umask at launch; the test process's own files are made meanwhile.
        let previous = umask(0)
        let daemon: ChildProcess
        do {
            defer { umask(previous) }
            daemon = try DaemonProcessTests.launch(["run", "--config", config], in: directory, name: "daemon")
        }
        defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
        let files = [database, database + "-wal", database + "-shm", database + "-reserve", database + ".lock"]
        try await waitUntil("every file beside the database") {
            guard daemon.isRunning else { throw TimedOut(description: "the daemon exited with \(daemon.terminationStatus)") }
            return files.allSatisfy { FileManager.default.fileExists(atPath: $0) }
        }
        for file in files {
            var info = stat()
            #expect(stat(file, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600, "\(file): \(String(info.st_mode & 0o777, radix: 8))")
        }
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
    }
}
