import Foundation
import Testing
@testable import ReplenishAgent

/// Reading the config file itself: anything that is not a small regular file gets a plain reason
/// at once (never Foundation's "error 256", never a hang on a FIFO), and a UTF-8 BOM is accepted.
@Suite("config file reading")
struct ConfigFileTests {
    static let valid = """
        device:
          id: cm-000123
        mqtt:
          url: mqtt://127.0.0.1
        storage:
          path: /var/lib/replenishd/state.db
        report:
          daily_at: "03:00"
        slots:
          - id: water
            sensor: level
            measurement: {type: Count}
            capacity: 3
            source: {driver: simulated}

        """

    static func reason(_ path: String) -> String? {
        do {
            _ = try ConfigLoader.load(path: path)
            return nil
        } catch {
            return error.description
        }
    }

    @Test("a directory, a FIFO, a device, a symlink loop and a file over 1 MiB are refused with a plain reason")
    func notAConfigFile() throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.path("fifo.yaml")
        #expect(mkfifo(fifo, 0o600) == 0)
        let loop = directory.path("loop.yaml")
        try FileManager.default.createSymbolicLink(atPath: loop, withDestinationPath: directory.path("loop2.yaml"))
        try FileManager.default.createSymbolicLink(atPath: directory.path("loop2.yaml"), withDestinationPath: loop)
        let huge = directory.path("huge.yaml")
        try Data(Self.valid.utf8 + Array(repeating: UInt8(ascii: "#"), count: 1 << 20)).write(to: URL(fileURLWithPath: huge))

        let cases = [
            (directory.url.path, "cannot read the file: it is a directory, not a file"),
            (fifo, "cannot read the file: it is a FIFO (named pipe), not a regular file"),
            ("/dev/null", "cannot read the file: it is a device, not a regular file"),
            (loop, "cannot read the file: too many levels of symbolic links (a symlink loop?)"),
            (huge, "cannot read the file: it is \(Self.valid.utf8.count + (1 << 20)) bytes; a config file may be at most 1 MiB"),
        ]
        for (path, message) in cases {
            let reason = Self.reason(path)
            #expect(reason == "\(path):1:1: \(message)")
            #expect(reason?.contains("NSCocoaErrorDomain") == false)
        }
    }

    @Test("a UTF-8 byte-order mark at the start is accepted")
    func byteOrderMark() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("bom.yaml")
        try Data([0xEF, 0xBB, 0xBF] + Array(Self.valid.utf8)).write(to: URL(fileURLWithPath: path))
        let config = try ConfigLoader.load(path: path)
        #expect(config.device.id == "cm-000123")
    }

    @Test("a file that cannot be opened names the system's reason")
    func unreadable() throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("secret.yaml")
        try Data(Self.valid.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, 0o000)
        defer { chmod(path, 0o600) }
        guard getuid() != 0 else { return }  // root reads anything
        #expect(Self.reason(path) == "\(path):1:1: cannot read the file: Permission denied")
    }
}
