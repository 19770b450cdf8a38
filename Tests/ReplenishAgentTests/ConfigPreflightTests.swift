import Foundation
import ReplenishMQTT
import Testing
@testable import ReplenishAgent
import ReplenishTestSupport

/// `check` (and `run`, and a reload) verify what the daemon will open, at the key that names it:
/// a config `check` accepts does not fail once the daemon starts on it.
@Suite("config preflight")
struct ConfigPreflightTests {
    /// A config whose database and TLS keys are given by the caller; `mqtt` lines replace the url.
    static func write(in directory: TemporaryDirectory, database: String, mqtt: String = "  url: mqtt://127.0.0.1") throws -> String {
        let path = directory.path("replenishd.yaml")
        try """
        device:
          id: pre-1
        mqtt:
        \(mqtt)
        storage:
          path: \(database)
        report:
          daily_at: "03:00"
        slots:
          - id: water
            sensor: level
            measurement: {type: Count}
            capacity: 3
            source: {driver: simulated}

        """.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func problems(_ path: String) -> [String] {
        do {
            _ = try ConfigLoader.loadForRun(path: path)
            return []
        } catch {
            return error.diagnostics.map(\.description)
        }
    }

    @Test("the database's directory must exist and be a directory; the file, when there, a regular file")
    func storage() throws {
        let directory = try TemporaryDirectory()
        let missing = directory.path("absent/state.db")
        var path = try Self.write(in: directory, database: missing)
        #expect(Self.problems(path) == [
            "\(path):6:9: storage.path: the database's directory \(directory.path("absent")) does not exist (create it, writable by the service user)",
        ])
        try FileManager.default.createDirectory(atPath: directory.path("db.d"), withIntermediateDirectories: false)
        path = try Self.write(in: directory, database: directory.path("db.d"))
        #expect(Self.problems(path) == [
            "\(path):6:9: storage.path: \(directory.path("db.d")) is not a regular file (expected the SQLite database)",
        ])
        path = try Self.write(in: directory, database: directory.path("state.db"))
        #expect(Self.problems(path) == [])
    }

    @Test("a database directory the service cannot write to is refused")
    func storageNotWritable() throws {
        guard getuid() != 0 else { return }  // root writes anywhere
        let directory = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: directory.path("ro"), withIntermediateDirectories: false)
        chmod(directory.path("ro"), 0o500)
        defer { chmod(directory.path("ro"), 0o700) }
        let path = try Self.write(in: directory, database: directory.path("ro/state.db"))
        #expect(Self.problems(path) == [
            "\(path):6:9: storage.path: cannot create files in the database's directory \(directory.path("ro")): Permission denied",
        ])
    }

    @Test("a ca_file with no certificate and a client key that is not the certificate's are refused at their keys")
    func tlsFiles() throws {
        let pki = try TestPKI.shared()
        let directory = try TemporaryDirectory()
        let empty = directory.path("empty.pem")
        try "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n"
            .write(toFile: empty, atomically: true, encoding: .utf8)
        // A key of our own, 0600, that belongs to another certificate.
        let otherKey = directory.path("other.key")
        try FileManager.default.copyItem(atPath: pki.serverKey, toPath: otherKey)
        chmod(otherKey, 0o600)
        let clientKey = directory.path("client.key")
        try FileManager.default.copyItem(atPath: pki.clientKey, toPath: clientKey)
        chmod(clientKey, 0o600)
        func mqtt(ca: String, key: String) -> String {
            "  url: mqtts://localhost\n  ca_file: \(ca)\n  cert_file: \(pki.clientCert)\n  key_file: \(key)"
        }
        let database = directory.path("state.db")
        var path = try Self.write(in: directory, database: database, mqtt: mqtt(ca: empty, key: otherKey))
        #expect(Self.problems(path) == [
            "\(path):5:12: mqtt.ca_file: \(empty) holds no PEM certificate (expected a -----BEGIN CERTIFICATE----- block)",
            "\(path):7:13: mqtt.key_file: \(otherKey) is not the private key of the certificate in \(pki.clientCert) (or not an unencrypted PEM key)",
        ])
        path = try Self.write(in: directory, database: database, mqtt: mqtt(ca: pki.caFile, key: clientKey))
        #expect(Self.problems(path) == [])
    }

    @Test("check and run exit 78 at the key for what run would fail on", arguments: ["check", "run"])
    func realBinary(command: String) throws {
        let directory = try TemporaryDirectory()
        let path = try Self.write(in: directory, database: directory.path("absent/state.db"))
        let result = try DaemonProcessTests.run([command, "--config", path], in: directory)
        #expect(result.status == 78)
        #expect(result.stderr.contains("replenishd.yaml:6:9: storage.path: the database's directory"), "\(result.stderr)")
        #expect(!result.stderr.contains("SQLite"), "\(result.stderr)")
    }

    @Test("run with sample_every: 1e20 exits 78 at the key instead of trapping")
    func hugeDurationRun() throws {
        let directory = try TemporaryDirectory()
        let path = try Self.write(in: directory, database: directory.path("state.db"))
        let text = try String(contentsOfFile: path, encoding: .utf8)
            .replacingOccurrences(of: "{driver: simulated}", with: "{driver: simulated, sample_every: 1e20}")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let result = try DaemonProcessTests.run(["run", "--config", path], in: directory)
        #expect(result.status == 78)
        #expect(result.stderr.contains("replenishd.yaml:14:47: slots[0].source.sample_every: expected a duration at least 10ms and at most 1d, got '1e20'"),
                "\(result.stderr)")
    }
}
