import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishHardware
import ReplenishStore
import ReplenishSystemd
import ReplenishTestSupport
import Synchronization
import Testing

/// A source whose reads can be made to hang, as a wedged I2C bus would.
final class GatedSource: SensorSource {
    let slot: String
    let sampleIntervalSeconds: Double = 600
    private let open = Mutex(true)
    private let condition = NSCondition()

    init(slot: String) { self.slot = slot }

    func sample(at now: Date) throws -> [Observation] {
        condition.lock()
        defer { condition.unlock() }
        while !open.withLock({ $0 }) { condition.wait() }
        return [.level(900)]
    }

    func setOpen(_ value: Bool) {
        condition.lock()
        open.withLock { $0 = value }
        condition.broadcast()
        condition.unlock()
    }
}

@Suite("systemd notify protocol from the running service", .serialized)
struct WatchdogTests {
    @Test("READY=1 first, STATUS= follows the broker, WATCHDOG=1 while loops progress")
    func readyStatusWatchdog() async throws {
        let socket = try NotificationListener()
        let h = try await DeliveryTests.Harness(
            device: "notify-test",
            notifier: ServiceNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "200000"]))
        let first = try #require(await socket.next(within: 20))
        #expect(first.hasPrefix("READY=1\nSTATUS="), "\(first)")
        #expect(await socket.next(where: { $0 == "WATCHDOG=1" }, within: 10) != nil)
        let status = await socket.next(where: { $0.hasPrefix("STATUS=broker connected") }, within: 20)
        #expect(status?.contains("outbox") == true, "\(status ?? "no status")")
        #expect(status?.contains("2 slots ok") == true, "\(status ?? "no status")")
        try await h.stop()
        #expect(await socket.next(where: { $0 == "STOPPING=1" }, within: 10) != nil)
    }

    @Test("a sensor read that hangs stops the watchdog pings, and they resume when it returns")
    func stalledLoopStopsWatchdog() async throws {
        let socket = try NotificationListener()
        let gated = GatedSource(slot: "water")
        let h = try await DeliveryTests.Harness(
            device: "watchdog-test", replacing: [gated],
            notifier: ServiceNotifier(environment: ["NOTIFY_SOCKET": socket.path, "WATCHDOG_USEC": "200000"]),
            stallLimit: 0.5)
        #expect(await socket.next(where: { $0 == "WATCHDOG=1" }, within: 20) != nil)

        try await waitUntil("every loop asleep") { h.clock.sleeperCount == h.loops }
        gated.setOpen(false)
        h.clock.advance(by: 600)  // the next read of `water` hangs
        let stalled = await socket.next(where: { $0.hasPrefix("STATUS=STALLED") }, within: 20)
        #expect(stalled?.contains("sensor water") == true, "\(stalled ?? "no stall reported")")
        // At most one ping already under way when the stall was seen; then silence (normally 6 a second).
        var pings = 0
        let quiet = Date().addingTimeInterval(1.5)
        while quiet.timeIntervalSinceNow > 0 {
            if await socket.next(within: quiet.timeIntervalSinceNow) == "WATCHDOG=1" { pings += 1 }
        }
        #expect(pings <= 1)

        gated.setOpen(true)
        #expect(await socket.next(where: { $0 == "WATCHDOG=1" }, within: 20) != nil)
        try await h.stop()
    }
}

@Suite("status line")
struct StatusLineTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test("broker, outbox age and unhealthy slots in one line", arguments: [
        (true, 0, [String: String](), "broker connected · outbox empty · 0 slots ok"),
        (false, 3, ["beans": "ok", "water": "fault"],
         "broker disconnected for 5 min (connection refused) · outbox 3, oldest 2 h 0 min · water fault"),
    ])
    func line(connected: Bool, queued: Int, health: [String: String], expected: String) {
        let snapshot = RuntimeSnapshot(
            pid: 1, running: true, startedAt: Self.now, updatedAt: Self.now,
            broker: .init(url: "mqtt://127.0.0.1:1883", connected: connected, since: Self.now.addingTimeInterval(-300),
                          lastError: connected ? nil : "connection refused"),
            health: health)
        let outbox = OutboxStats(count: queued, bytes: queued * 100,
                                 oldestCreatedAt: queued > 0 ? Self.now.timeIntervalSince1970 - 7200 : nil,
                                 oldestSeq: queued > 0 ? 7 : nil)
        #expect(StatusLine.text(snapshot, outbox: outbox, now: Self.now) == expected)
    }
}
