import Foundation
import Logging
@testable import ReplenishAgent
import ReplenishCore
import ReplenishHardware
import ReplenishMQTT
import ReplenishStore
import ReplenishSystemd
import ReplenishTestSupport
import Testing

/// The whole path, in process: simulated sources, ledger, SQLite outbox, a real mosquitto.
@Suite("delivery through a real broker", .serialized)
struct DeliveryTests {
    static let start = Date(timeIntervalSince1970: 1_772_323_200)  // 2026-03-01T00:00:00Z

    /// A running service on a manual clock, and what the test needs to drive it.
    struct Harness {
        let directory: TemporaryDirectory
        let broker: TestBroker
        let config: AgentConfig
        let clock: ManualClock
        let service: ReplenishService
        let subscriber: Subscriber
        let task: Task<Void, any Error>
        let sources: [SimulatedSource]
        /// Two sources, the report scheduler and the flush timer.
        let loops = 4
        /// Cancels the service when the harness goes away without `stop()` (a failed wait throws
        /// past it): otherwise it runs, and logs each reconnect, until the whole test run ends.
        private let teardown: Teardown

        final class Teardown: Sendable {
            let task: Task<Void, any Error>
            init(_ task: Task<Void, any Error>) { self.task = task }
            deinit { task.cancel() }
        }

        init(device: String, brokerDownAtStart: Bool = false, tls: Bool = false,
             start: Date = DeliveryTests.start, trust: any ClockTrust = FixedClockTrust(true),
             replacing: [any SensorSource] = [], notifier: ServiceNotifier = ServiceNotifier(environment: [:]),
             stallLimit: Double? = nil, adjust: (inout AgentConfig) -> Void = { _ in }) async throws {
            directory = try TemporaryDirectory()
            let pki = tls ? try TestPKI.shared() : nil
            broker = try TestBroker.start(persistence: true, tls: pki?.listener())
            var config = try ConfigLoader.parse(
                testConfig(deviceID: device, broker: broker, database: directory.path("state.db"), tls: pki),
                fileName: "test.yaml")
            config.mqtt.reconnectDelayMin = 0.05
            config.mqtt.reconnectDelayMax = 0.2
            adjust(&config)
            self.config = config
            subscriber = try Subscriber(broker: broker, base: config.mqtt.baseTopic, tls: pki?.clientTLS())
            try await subscriber.ready()
            if brokerDownAtStart { broker.stop() }
            clock = ManualClock(now: start)
            sources = try Daemon.sources(for: config, simulate: true, start: start)
                .compactMap { $0 as? SimulatedSource }
            // Sources given by the test stand in for the simulated ones of the same slot.
            let all: [any SensorSource] = sources.map { simulated in
                replacing.first { $0.slot == simulated.slot } ?? simulated
            }
            service = ReplenishService(config: config, sources: all, clock: clock, trust: trust, notifier: notifier,
                                       stallLimit: stallLimit, logger: Logger(label: "test.service"))
            task = Task { [service] in try await service.run() }
            teardown = Teardown(task)
        }

        /// Advances the clock by one hour once every loop is parked, so each hour is one report.
        func advanceOneHour() async throws {
            try await advance(by: 3600)
        }

        /// Advances the clock once every loop is parked; a source samples at most once per advance.
        func advance(by seconds: Double) async throws {
            try await waitUntil("every loop asleep") { clock.sleeperCount == loops }
            clock.advance(by: seconds)
        }

        /// Returns once the service is connected and subscribed: its start-up report, sent after
        /// the subscription on the same connection, has arrived.
        func connected() async throws {
            try await subscriber.waitFor("the start-up report") { $0.contains { $0.reason == "startup" } }
        }

        func outbox() throws -> OutboxStats {
            try StateStore(path: config.storage.path, readOnly: true).outboxStats()
        }

        func stop(keepBroker: Bool = false) async throws {
            task.cancel()
            try await task.value
            if !keepBroker {
                subscriber.stop()
                broker.stop()
            }
        }
    }

    @Test("status reports reach the broker with consecutive seq, oldest first")
    func consecutiveSeq() async throws {
        let h = try await Harness(device: "seq-test")
        try await h.subscriber.waitFor("the start-up report") { $0.contains { $0.reason == "startup" } }
        for hour in 1...6 {
            try await h.advanceOneHour()
            try await h.subscriber.waitFor("periodic report \(hour)") { messages in
                messages.filter { $0.topic.hasSuffix("/status") }.count == hour + 1
            }
        }
        try await h.stop()
        let seqs = h.subscriber.distinctSeqs
        #expect(seqs == Array(1...UInt64(seqs.count)))
        let reasons = h.subscriber.messages.filter { $0.topic.hasSuffix("/status") }.compactMap(\.reason)
        // The clock starts at midnight UTC: the 03:00 daily report stands in for that hour's periodic one.
        #expect(reasons == ["startup", "periodic", "periodic", "daily", "periodic", "periodic", "periodic"])
    }

    /// MQTT 5 (the default) and 3.1.1 alike.
    @Test("with the broker down, reports queue in SQLite; when it returns they all arrive in order and the outbox empties",
          arguments: [MQTTSettings.ProtocolVersion.v5, .v311])
    func brokerOutage(_ version: MQTTSettings.ProtocolVersion) async throws {
        let h = try await Harness(device: "outage-test") { $0.mqtt.protocolVersion = version }
        try await h.subscriber.waitFor("the start-up report") { $0.contains { $0.reason == "startup" } }
        try await waitUntil("the outbox drained") { try h.outbox().count == 0 }

        h.broker.stop()
        try await waitUntil("the service notices") { !h.service.delivery.connected }
        for _ in 1...5 { try await h.advanceOneHour() }
        // The start-up report and one an hour: six, the last five of them still in the outbox.
        let committed: UInt64 = 6
        try await waitUntil("five more reports committed") { h.service.lastCommittedSeq == committed }
        #expect(try h.outbox().count == 5)

        try h.broker.restart()
        try await h.subscriber.waitFor("everything committed to arrive") { messages in
            Set(messages.map(\.seq)).isSuperset(of: 1...committed)
        }
        try await waitUntil("the outbox empty again") { try h.outbox().count == 0 }
        try await h.stop()
        let seqs = h.subscriber.distinctSeqs
        #expect(seqs == seqs.sorted())
        #expect(seqs.first == 1)
        #expect(seqs.last! >= committed)
    }

    @Test("a daemon started while no broker listens connects once one appears, without a restart")
    func brokerAppearsLater() async throws {
        let h = try await DeliveryTests.Harness(device: "late-broker-test", brokerDownAtStart: true)
        for _ in 1...3 { try await h.advanceOneHour() }
        try await waitUntil("four reports committed") { h.service.lastCommittedSeq == 4 }
        #expect(!h.service.delivery.connected)
        try h.broker.restart()
        try await h.subscriber.waitFor("all four") { Set($0.map(\.seq)).isSuperset(of: 1...4) }
        try await h.stop()
        #expect(h.subscriber.distinctSeqs == [1, 2, 3, 4])
    }

    @Test("over mutual TLS the daemon connects and delivers")
    func mutualTLS() async throws {
        let h = try await DeliveryTests.Harness(device: "tls-test", tls: true)
        #expect(h.config.mqtt.url.tls)
        try await h.connected()
        try await h.advanceOneHour()
        try await h.subscriber.waitFor("the next report") { Set($0.map(\.seq)).isSuperset(of: [1, 2]) }
        try await h.stop()
    }
}
