import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishStore
import ReplenishTestSupport
import Testing

@Suite("the daemon through wall-clock jumps", .serialized)
struct ClockJumpTests {
    /// The ledgers as the daemon persisted them.
    static func ledgers(_ h: DeliveryTests.Harness) throws -> [String: SlotLedger] {
        let stored = try StateStore(path: h.config.storage.path, readOnly: true).loadState()
        return try stored.slots.mapValues { try JSONDecoder().decode(SlotLedger.self, from: Data($0)) }
    }

    static func field(_ message: ReceivedMessage, _ key: String) -> Any? {
        (try? JSONSerialization.jsonObject(with: Data(message.json.utf8)) as? [String: Any])?[key]
    }

    @Test("booting in 1970, syncing to 2026, then stepping back a year: no bogus day, clock field follows trust")
    func bootIn1970() async throws {
        let trust = ManualClockTrust(false)
        let h = try await DeliveryTests.Harness(device: "clock-test", start: Date(timeIntervalSince1970: 0), trust: trust)
        try await h.connected()

        // 30 hours on a wrong, unsynchronized clock: nothing closes.
        for _ in 1...30 { try await h.advanceOneHour() }
        try await waitUntil("reports of the unsynchronized hours") { h.service.lastCommittedSeq >= 31 }
        try await h.subscriber.waitFor("those reports delivered", within: .seconds(60)) {
            Set($0.map(\.seq)).isSuperset(of: 1...31)
        }
        let beforeSync = h.subscriber.messages.filter { $0.topic.hasSuffix("/status") }
        #expect(beforeSync.allSatisfy { Self.field($0, "clock") as? String == "unsynchronized" })
        #expect(beforeSync.contains { $0.reason == "daily" }, "a daily report within 24 h of monotonic time")

        // NTP syncs: the wall clock leaps 56 years to 2026-03-01 12:00 UTC; three days pass.
        trust.set(true)
        h.clock.setWall(Date(timeIntervalSince1970: 1_772_366_400))
        for _ in 1...72 { try await h.advanceOneHour() }
        // NTP steps back a year; two more days pass.
        h.clock.jumpWall(by: -365 * 86_400)
        for _ in 1...48 { try await h.advanceOneHour() }
        try await waitUntil("every hour reported") { h.service.lastCommittedSeq >= 151 }
        // Count what the cloud got only once it got everything committed (a loaded machine
        // delivers well behind the commits).
        let committed = h.service.lastCommittedSeq
        try await h.subscriber.waitFor("every committed message delivered", within: .seconds(60)) {
            Set($0.map(\.seq)).isSuperset(of: 1...committed)
        }
        try await h.stop()

        let ledgers = try Self.ledgers(h)
        for (slot, ledger) in ledgers {
            // Days closed: only the five trusted midnights the monotonic clock passed.
            #expect(ledger.closedDays.count == 5, "\(slot): \(ledger.closedDays.map(\.day))")
            #expect(!ledger.closedDays.contains { $0.day.year == 1970 }, "\(slot): a day from the unsynchronized clock")
            #expect(abs(ledger.dailyConsumedTotal - ledger.consumedTotal) < 1e-6, "\(slot): days do not add up")
        }
        let statuses = h.subscriber.messages.filter { $0.topic.hasSuffix("/status") }
        let synced = statuses.drop { Self.field($0, "clock") as? String == "unsynchronized" }
        #expect(synced.allSatisfy { Self.field($0, "clock") as? String == "synchronized" })
        // Daily reports: one per day, never a burst, never a day without.
        let dailies = statuses.filter { $0.reason == "daily" }.count
        #expect((6...7).contains(dailies), "\(dailies) daily reports over 150 hours")
    }
}
