import Foundation
import ReplenishTestSupport
import Testing

/// The shipped unit, checked the way systemd itself judges it.
@Suite("the systemd unit")
struct SystemdUnitTests {
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("systemd/replenishd.service")

    static func file(_ name: String) -> String {
        unit.deletingLastPathComponent().appendingPathComponent(name).path
    }

    static func systemdAnalyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try run(["systemd-analyze"] + arguments)
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try ChildProcess.run("/usr/bin/env", arguments)
    }

    /// A copy of the unit whose commands point at the binary just built.
    static func installedCopy(in directory: TemporaryDirectory) throws -> String {
        let text = try String(contentsOf: unit, encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/replenishd", with: try replenishdExecutable())
        let path = directory.path("replenishd.service")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("a bad config stops the service: no ExecStartPre, whose exit status RestartPreventExitStatus= ignores")
    func noRestartLoopOnBadConfig() throws {
        let text = try String(contentsOf: Self.unit, encoding: .utf8)
        let lines = text.split(separator: "\n").filter { !$0.hasPrefix("#") }
        #expect(!lines.contains { $0.hasPrefix("ExecStartPre=") })
        #expect(lines.contains("RestartPreventExitStatus=78"))
        #expect(lines.contains { $0.hasPrefix("ExecStart=/usr/bin/replenishd run ") })
    }

    @Test("i2c-dev is loaded at boot, before the unit's DeviceAllow=char-i2c is applied")
    func i2cDevLoadedAtBoot() throws {
        let modules = try String(contentsOfFile: Self.file("replenishd.modules-load"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(modules == ["i2c-dev"])
        #expect(try String(contentsOf: Self.unit, encoding: .utf8).contains("DeviceAllow=char-i2c rw"))
    }

    @Test("systemd-analyze verify finds nothing to complain about")
    func verify() throws {
        let directory = try TemporaryDirectory()
        let result = try Self.systemdAnalyze(["verify", try Self.installedCopy(in: directory)])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(result.output)")
    }

    /// 1.5 with the whole of @resources refused; setpriority back (libdispatch's thread priorities,
    /// see the unit) costs 0.1.
    @Test("systemd-analyze security rates the unit's exposure at 1.6 or lower")
    func exposure() throws {
        let directory = try TemporaryDirectory()
        let result = try Self.systemdAnalyze(["security", "--offline=true", try Self.installedCopy(in: directory)])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") },
                                "\(result.output)")
        let level = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect((level ?? 99) <= 1.6, "\(line)")
    }

    /// An empty root file system for systemd-sysusers and systemd-tmpfiles to work in.
    static func scratchRoot() throws -> TemporaryDirectory {
        let root = try TemporaryDirectory()
        try FileManager.default.createDirectory(atPath: root.path("etc"), withIntermediateDirectories: true)
        for name in ["passwd", "group", "shadow", "gshadow"] {
            _ = FileManager.default.createFile(atPath: root.path("etc/" + name), contents: nil)
        }
        return root
    }

    @Test("sysusers creates the service user, the device groups, and puts the user in them")
    func sysusers() throws {
        let root = try Self.scratchRoot()
        let result = try Self.run(["systemd-sysusers", "--root=" + root.url.path, Self.file("replenishd.sysusers")])
        #expect(result.status == 0, "\(result.output)")
        let passwd = try String(contentsOfFile: root.path("etc/passwd"), encoding: .utf8)
        let group = try String(contentsOfFile: root.path("etc/group"), encoding: .utf8)
        let user = try #require(passwd.split(separator: "\n").first { $0.hasPrefix("replenishd:") })
        #expect(user.hasSuffix(":/var/lib/replenishd:/usr/sbin/nologin"), "\(user)")
        // The unit's SupplementaryGroups= are exactly the groups the user is put in.
        let unitText = try String(contentsOf: Self.unit, encoding: .utf8)
        let supplementary = try #require(unitText.split(separator: "\n").first { $0.hasPrefix("SupplementaryGroups=") })
        for name in supplementary.dropFirst("SupplementaryGroups=".count).split(separator: " ") {
            let line = group.split(separator: "\n").first { $0.hasPrefix(name + ":") }
            #expect(line?.hasSuffix(":replenishd") == true, "group \(name): \(line ?? "missing")")
        }
    }

    @Test("tmpfiles creates the state directory closed to others")
    func tmpfiles() throws {
        let root = try Self.scratchRoot()
        _ = try Self.run(["systemd-sysusers", "--root=" + root.url.path, Self.file("replenishd.sysusers")])
        let result = try Self.run(["systemd-tmpfiles", "--create", "--root=" + root.url.path, Self.file("replenishd.tmpfiles")])
        #expect(result.status == 0, "\(result.output)")
        let attributes = try FileManager.default.attributesOfItem(atPath: root.path("var/lib/replenishd"))
        #expect((attributes[.posixPermissions] as? Int) == 0o750)
        let passwd = try String(contentsOfFile: root.path("etc/passwd"), encoding: .utf8)
        let uid = passwd.split(separator: "\n").first { $0.hasPrefix("replenishd:") }?.split(separator: ":")[2]
        #expect((attributes[.ownerAccountID] as? NSNumber)?.stringValue == uid.map(String.init))
    }

    @Test("the udev rule gives the GPIO chips and I2C buses to the groups the service runs in")
    func udevRule() throws {
        let rules = try String(contentsOfFile: Self.file("60-replenishd.rules"), encoding: .utf8)
            .split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(rules.count == 2)
        for (subsystem, kernel, group) in [("gpio", "gpiochip", "gpio"), ("i2c-dev", "i2c-", "i2c")] {
            let rule = rules.first { $0.contains("SUBSYSTEM==\"\(subsystem)\"") }
            #expect(rule?.contains("KERNEL==\"\(kernel)") == true, "\(rule ?? "no rule for \(subsystem)")")
            #expect(rule?.contains("GROUP=\"\(group)\"") == true)
            #expect(rule?.contains("MODE=\"0660\"") == true)
        }
        // Every assignment uses a key udev knows, with = for assignments and == for matches.
        for rule in rules {
            for field in rule.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
                #expect(field.range(of: #"^(SUBSYSTEM|KERNEL)=="[^"]+"$|^(GROUP|MODE)="[^"]+"$"#,
                                    options: .regularExpression) != nil, "\(field)")
            }
        }
    }
}
