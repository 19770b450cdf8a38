import Foundation
import Glibc
import Logging
import ReplenishSystemd
import ReplenishTestSupport
import Testing

@Suite("journal logging")
struct JournalTests {
    static func entry(_ level: Logger.Level = .info, _ message: String = "broker connection lost",
                      _ metadata: Logger.Metadata = [:]) -> [String] {
        JournalEntry.fields(level: level, message: message, metadata: metadata, label: "replenishd",
                            file: "ReplenishAgent/OutboxDrainer.swift", function: "run(inputs:)", line: 42)
    }

    @Test("levels map to syslog priorities", arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func priorities(level: Logger.Level, priority: Int) {
        #expect(Self.entry(level).contains("PRIORITY=\(priority)"))
    }

    @Test("metadata keys become journal field names", arguments: [
        ("slot", "SLOT"), ("seq", "SEQ"), ("topic", "TOPIC"), ("correlationId", "CORRELATION_ID"),
        ("mqtt.clientID", "MQTT_CLIENT_ID"), ("evictedSoFar", "EVICTED_SO_FAR"), ("_private", "F__PRIVATE"),
        ("9lives", "F_9LIVES"), ("ünïcode", "F__N_CODE"),
    ])
    func fieldNames(key: String, field: String) {
        #expect(JournalEntry.fieldName(key) == field)
        #expect(JournalEntry.fieldName(key).range(of: "^[A-Z][A-Z0-9_]{0,63}$", options: .regularExpression) != nil)
    }

    @Test("a record carries message, identifier, origin, its metadata and its MESSAGE_ID")
    func fields() {
        let fields = Self.entry(.warning, "broker connection lost",
                                JournalMessageID.brokerLost.metadata.merging(["reason": "timeout", "seq": "41"]) { $1 })
        #expect(fields.contains("MESSAGE=broker connection lost"))
        #expect(fields.contains("SYSLOG_IDENTIFIER=replenishd"))
        #expect(fields.contains("CODE_FILE=ReplenishAgent/OutboxDrainer.swift"))
        #expect(fields.contains("CODE_LINE=42"))
        #expect(fields.contains("REASON=timeout"))
        #expect(fields.contains("SEQ=41"))
        #expect(fields.contains("MESSAGE_ID=\(JournalMessageID.brokerLost.rawValue)"))
        #expect(!fields.contains { $0.hasPrefix("MESSAGE_I_D") })
    }

    @Test("message ids are distinct 128-bit ids")
    func messageIDs() {
        let ids = JournalMessageID.allCases.map(\.rawValue)
        #expect(Set(ids).count == ids.count)
        for id in ids { #expect(id.range(of: "^[0-9a-f]{32}$", options: .regularExpression) != nil) }
    }

    @Test("secret-looking metadata never reaches the journal or the terminal", arguments: [
        "password", "mqttPassword", "password_file_contents", "token", "apiSecret", "passphrase", "privateKey",
    ])
    func redaction(key: String) {
        let fields = Self.entry(.info, "connecting", [key: "hunter2"])
        #expect(!fields.joined().contains("hunter2"))
        #expect(fields.contains("\(JournalEntry.fieldName(key))=<redacted>"))
        let line = ConsoleLogHandler.line(level: .info, message: "connecting", metadata: [key: "hunter2"], at: Date())
        #expect(!line.contains("hunter2"))
    }

    @Test("a terminal line stays one line and carries key=value metadata")
    func consoleLine() {
        let line = ConsoleLogHandler.line(level: .error, message: "two\nlines", metadata: ["slot": "beans", "seq": "7"],
                                          at: Date(timeIntervalSince1970: 0))
        #expect(!line.contains("\n"))
        #expect(line.hasSuffix("error two lines seq=7 slot=beans"), "\(line)")
    }

    @Test("JOURNAL_STREAM counts only when it names the very stream given")
    func journalDetection() throws {
        let path = NSTemporaryDirectory() + "journal-stream-\(UUID().uuidString.prefix(8))"
        let fd = open(path, O_RDWR | O_CREAT, 0o600)
        defer { close(fd); unlink(path) }
        var info = stat()
        #expect(fstat(fd, &info) == 0)
        #expect(JournalLogHandler.isJournal(fd: fd, journalStream: "\(info.st_dev):\(info.st_ino)"))
        #expect(!JournalLogHandler.isJournal(fd: fd, journalStream: "\(info.st_dev):\(info.st_ino + 1)"))
        #expect(!JournalLogHandler.isJournal(fd: fd, journalStream: nil))
        #expect(!JournalLogHandler.isJournal(fd: fd, journalStream: "garbage"))
    }

    /// journald's socket path; free on a machine where journald does not run (build hosts, CI).
    static let journalSocket = "/run/systemd/journal/socket"
    static let canStandIn = getuid() == 0 && !FileManager.default.fileExists(atPath: journalSocket)

    @Test("sd_journal_sendv delivers the fields to the journal's socket", .enabled(if: canStandIn))
    func sendReachesTheSocket() throws {
        try FileManager.default.createDirectory(atPath: "/run/systemd/journal", withIntermediateDirectories: true)
        let journal = try NotificationListener(path: Self.journalSocket)
        let result = JournalLogHandler.send(Self.entry(.error, "sensor fault", JournalMessageID.sensorFault.metadata
            .merging(["slot": "beans", "reason": "no answer\nat 0x48"]) { $1 }))
        #expect(result == 0)
        let datagram = try #require(journal.receive(timeout: 5))
        #expect(datagram.contains("MESSAGE=sensor fault\n"))
        #expect(datagram.contains("PRIORITY=3\n"))
        #expect(datagram.contains("SLOT=beans\n"))
        #expect(datagram.contains("MESSAGE_ID=\(JournalMessageID.sensorFault.rawValue)\n"))
        // A value with a newline goes in the protocol's binary form: name, newline, length, value.
        #expect(datagram.contains("REASON\n"))
        #expect(datagram.contains("no answer\nat 0x48"))
    }

    @Test("SIGUSR1's toggle switches debug on and back to the configured level")
    func toggle() {
        let levels = LogLevelSwitch(.info)
        var handler = ConsoleLogHandler(label: "t", levels: levels, write: { _ in })
        #expect(handler.logLevel == .info)
        #expect(levels.toggleDebug() == .debug)
        #expect(handler.logLevel == .debug)
        #expect(levels.toggleDebug() == .info)
        handler.logLevel = .warning
        #expect(levels.level == .warning)
        #expect(levels.toggleDebug() == .debug)
        levels.configure(.debug)
        #expect(levels.toggleDebug() == .debug)  // already debug: toggling on changes nothing
    }
}
