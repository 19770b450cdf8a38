import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishTestSupport
import Testing

/// Issue 18 item 4: the start-up report waits for the first reading of every slot, at most
/// `report.startup_wait` (default twice the longest `sample_every`, at most a minute), and then
/// names the slots still unread.
@Suite("the start-up report waits for the first readings", .serialized)
struct StartupWaitTests {
    @Test("a slot whose first read hangs holds the start-up report until startup_wait; the report names it; one start-up report only")
    func waitsThenNames() async throws {
        let gated = GatedSource(slot: "water")
        gated.setOpen(false)
        let h = try await DeliveryTests.Harness(device: "startup-wait", replacing: [gated])
        #expect(h.config.startupWaitSeconds == 60)  // sample_every 10m: twice that, at most a minute
        let availability = h.config.mqtt.baseTopic + "/availability"
        try await waitUntil("online") { h.subscriber.rawMessages.contains { $0.topic == availability } }
        // Every loop but the hung read asleep, and no report yet.
        try await waitUntil("the other loops asleep") { h.clock.sleeperCount == h.loops - 1 }
        #expect(!h.subscriber.messages.contains { $0.topic.hasSuffix("/status") })
        h.clock.advance(by: 59)
        try await waitUntil("the other loops asleep again") { h.clock.sleeperCount == h.loops - 1 }
        #expect(!h.subscriber.messages.contains { $0.topic.hasSuffix("/status") })
        h.clock.advance(by: 1)
        try await h.subscriber.waitFor("the start-up report") { $0.contains { $0.reason == "startup" } }
        let startup = try #require(h.subscriber.messages.first { $0.reason == "startup" })
        #expect(startup.json.contains(#""unreadSlots":["water"]"#), "\(startup.json)")

        // The read answers: no second start-up report; the next one is the hour's.
        gated.setOpen(true)
        try await h.advanceOneHour()
        try await h.subscriber.waitFor("the periodic report") { $0.contains { $0.reason == "periodic" } }
        #expect(h.subscriber.messages.filter { $0.reason == "startup" }.count == 1)
        let periodic = try #require(h.subscriber.messages.first { $0.reason == "periodic" })
        #expect(!periodic.json.contains("unreadSlots"))
        try await h.stop()
    }

    @Test("every slot read at once: the start-up report follows the readings, without the field")
    func noWait() async throws {
        let h = try await DeliveryTests.Harness(device: "startup-nowait")
        try await h.connected()
        let startup = try #require(h.subscriber.messages.first { $0.reason == "startup" })
        #expect(!startup.json.contains("unreadSlots"))
        // The level slot was read for it (before, its level was null in the start-up report).
        #expect(startup.json.contains(#""remainingQuantityInUnit":1800"#), "\(startup.json)")
        try await h.stop()
    }

    @Test("report.startup_wait: a duration from 0s to 10m, and the default follows sample_every")
    func config() throws {
        let url = BrokerProfileTests.url
        let set = ConfigMistake("", url, url).yaml.replacingOccurrences(of: "report:\n", with: "report:\n  startup_wait: 5s\n")
        #expect(try ConfigLoader.parse(set, fileName: "cfg.yaml").startupWaitSeconds == 5)
        let long = ConfigMistake("", url, url).yaml.replacingOccurrences(of: "report:\n", with: "report:\n  startup_wait: 11m\n")
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(long, fileName: "cfg.yaml") }
        #expect(error?.diagnostics.first?.description.contains("report.startup_wait: expected a duration") == true,
                "\(error?.diagnostics ?? [])")
    }
}
