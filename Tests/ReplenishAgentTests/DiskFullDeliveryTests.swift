import Foundation
import Glibc
@testable import ReplenishAgent
import ReplenishStore
import Testing
import ReplenishTestSupport

@Suite("a full state disk, through the running service", .serialized,
       .enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
struct DiskFullDeliveryTests {
    static func sh(_ arguments: [String]) throws -> Int32 {
        let process = try ChildProcess("/usr/bin/env", arguments, stderr: .null)
        process.waitUntilExit()
        return process.terminationStatus
    }

    @Test("the service keeps committing on a full disk, evicts old reports when it must, and delivers the rest once space and broker return")
    func fullDisk() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("full-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(try Self.sh(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint]) == 0)
        defer {
            _ = try? Self.sh(["umount", "-l", mountPoint])
            rmdir(mountPoint)
        }
        let h = try await DeliveryTests.Harness(device: "disk-full-test", brokerDownAtStart: true) {
            $0.storage.path = mountPoint + "/state.db"
        }
        for _ in 1...3 { try await h.advanceOneHour() }
        try await waitUntil("four reports committed") { h.service.lastCommittedSeq == 4 }
        #expect(FileManager.default.fileExists(atPath: mountPoint + "/state.db-reserve"))

        // Another process takes every free byte, twice, while reports keep coming; the second time
        // once the service has its reserve back.
        var produced: UInt64 = 4
        for round in 1...2 {
            try await waitUntil("the reserve in place") { FileManager.default.fileExists(atPath: mountPoint + "/state.db-reserve") }
            _ = try Self.sh(["dd", "if=/dev/zero", "of=\(mountPoint)/filler-\(round)", "bs=4k"])
            for _ in 1...12 { try await h.advanceOneHour() }
            let before = produced
            try await waitUntil("reports committed despite the full disk") { h.service.lastCommittedSeq > before + 6 }
            produced = h.service.lastCommittedSeq
        }
        _ = try StateStore(path: mountPoint + "/state.db", readOnly: true)
        #expect(try SQLiteFile.integrityCheck(path: mountPoint + "/state.db") == "ok")

        // Space and broker return: what was committed and not evicted arrives.
        for round in 1...2 { unlink("\(mountPoint)/filler-\(round)") }
        try h.broker.restart()
        try await waitUntil("the outbox empty") { try h.outbox().count == 0 }
        try await h.advanceOneHour()
        try await waitUntil("the reserve restored") { FileManager.default.fileExists(atPath: mountPoint + "/state.db-reserve") }
        let committed = h.service.lastCommittedSeq
        try await h.subscriber.waitFor("everything after the outage") { $0.contains { $0.seq == committed } }
        try await h.stop()

        let evicted = h.subscriber.messages.compactMap { message -> Int? in
            guard message.json.contains(#""outboxEvicted""#),
                  let object = try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any]
            else { return nil }
            return object["evictedReports"] as? Int
        }.reduce(0, +)
        let received = Set(h.subscriber.messages.map(\.seq))
        let missing = (1...committed).filter { !received.contains($0) }
        #expect(missing.count == evicted, "missing \(missing), evicted \(evicted)")
        print("full disk: committed \(committed), evicted \(evicted), delivered \(received.count)")
    }
}
