import Foundation
import Testing

/// The shipped unit, checked the way systemd itself judges it.
@Suite("the systemd unit")
struct SystemdUnitTests {
    static let unit = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("systemd/replenishd.service")

    static func systemdAnalyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["systemd-analyze"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// A copy of the unit whose commands point at the binary just built.
    static func installedCopy(in directory: TemporaryDirectory) throws -> String {
        let text = try String(contentsOf: unit, encoding: .utf8)
            .replacingOccurrences(of: "/usr/bin/replenishd", with: try replenishdExecutable())
        let path = directory.path("replenishd.service")
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("systemd-analyze verify finds nothing to complain about")
    func verify() throws {
        let directory = try TemporaryDirectory()
        let result = try Self.systemdAnalyze(["verify", try Self.installedCopy(in: directory)])
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(result.output)")
    }

    @Test("systemd-analyze security rates the unit's exposure at 1.5 or lower")
    func exposure() throws {
        let directory = try TemporaryDirectory()
        let result = try Self.systemdAnalyze(["security", "--offline=true", try Self.installedCopy(in: directory)])
        let line = try #require(result.output.split(separator: "\n").first { $0.contains("Overall exposure level") },
                                "\(result.output)")
        let level = line.split(separator: ":").last?.split(separator: " ").first.flatMap { Double($0) }
        #expect((level ?? 99) <= 1.5, "\(line)")
    }
}
