import Foundation
import Logging
import ReplenishCore
import ReplenishStore
import Testing
@testable import ReplenishAgent
import ReplenishTestSupport

/// Issue 17 item 3: the token bucket behind `mqtt.max_publish_rate`, on its own.
@Suite("token bucket")
struct TokenBucketTests {
    @Test("a burst, then one token per 1/rate seconds")
    func burstThenRate() {
        var bucket = TokenBucket(rate: 100)
        #expect(bucket.burst == 10)
        var waits: [Double?] = []
        for _ in 0..<11 { waits.append(bucket.take(at: 0)) }
        #expect(waits.prefix(10).allSatisfy { $0 == nil })
        #expect(waits[10].map { abs($0 - 0.01) < 1e-9 } == true)
        let early = bucket.take(at: 0.005)
        let due = bucket.take(at: 0.01)
        #expect(early != nil)
        #expect(due == nil)
    }

    @Test("in any stretch of t seconds at most rate × t + burst tokens are taken")
    func bounded() {
        var bucket = TokenBucket(rate: 100)
        var taken: [Double] = []
        var now = 0.0
        while now < 10 {
            if bucket.take(at: now) == nil { taken.append(now) } else { now += 0.001 }
        }
        #expect(taken.count <= 100 * 10 + 10)
        #expect(taken.count >= 100 * 10 - 1)
        for (index, start) in taken.enumerated() {
            let within = taken[index...].prefix { $0 < start + 1 }.count
            #expect(within <= 100 + 10, "\(within) tokens in the second from \(start)")
            if within > 110 { break }
        }
    }

    @Test("a spent token is paid back by the next ones; time that goes back adds nothing")
    func spendAndClockBack() {
        var bucket = TokenBucket(rate: 10, burst: 1)
        bucket.spend(at: 5)
        let wait = bucket.take(at: 5)
        #expect(wait.map { abs($0 - 0.1) < 1e-9 } == true)
        bucket.spend(at: 5)
        let back = bucket.take(at: 4)  // a clock going back must not refill
        let later = bucket.take(at: 5.2)
        #expect(back != nil)
        #expect(later == nil)
    }
}

/// Issue 17 item 3 against a real mosquitto: the drainer at `max_publish_rate`, and `ack_timeout`
/// when PUBACKs stop coming. Time for both is a `ManualClock`; waits are on conditions with deadlines.
@Suite("flow control through a real broker", .serialized)
struct FlowControlTests {
    struct Setup {
        let broker: TestBroker
        let directory: TemporaryDirectory
        let uplink: Uplink
        let subscriber: Subscriber
        let clock: ManualClock
        let log: LogRing
        let base: String
        let config: AgentConfig

        func stop() async {
            await uplink.stop(final: true)
            subscriber.stop()
            broker.stop()
        }
    }

    /// An uplink on `url` (the broker's, or a proxy's) with the given mqtt keys, connected, its birth seen.
    /// `reportKeys` are added to the `report` section.
    static func connect(device: String, mqttKeys: String, reportKeys: String = "", port: Int? = nil,
                        broker: TestBroker? = nil) async throws -> Setup {
        let broker = try broker ?? TestBroker.start()
        let directory = try TemporaryDirectory()
        let base = "replenish/v1/\(device)"
        let url = "mqtt://127.0.0.1:\(port ?? broker.port)"
        let yaml = testConfig(deviceID: device, broker: broker, database: directory.path("state.db"))
            .replacingOccurrences(of: "  url: \(broker.url)", with: "  url: \(url)\n  reconnect_min: 10ms\n  reconnect_max: 50ms\n" + mqttKeys)
            .replacingOccurrences(of: "  every: 1h", with: "  every: 1h\n" + reportKeys)
        let config = try ConfigLoader.parse(yaml, fileName: "cfg.yaml")
        let subscriber = try Subscriber(broker: broker, base: base)
        try await subscriber.ready()
        let clock = ManualClock(now: Date(), monotonic: 1_000)
        let log = LogRing()
        let uplink = try Uplink(config: config, liveness: LoopLiveness(), clock: clock,
                                logger: Logger(label: "test.flow") { RingLogHandler(ring: log, label: $0) })
        uplink.start()
        try await waitUntil("the birth") {
            subscriber.rawMessages.contains { $0.topic == base + "/availability" && $0.payload == "online" }
        }
        return Setup(broker: broker, directory: directory, uplink: uplink, subscriber: subscriber, clock: clock, log: log, base: base, config: config)
    }

    static func enqueue(_ count: Int, in setup: Setup) throws {
        try setup.uplink.store.commit { tx in
            for _ in 0..<count {
                let seq = try tx.nextSeq()
                try tx.enqueue(seq: seq, topic: setup.base + "/events", kind: .event,
                               payload: syntheticOutboxRow(seq: seq), createdAt: 0)
            }
        }
        setup.uplink.drainerFeed.yield(.outboxChanged)
    }

    @Test("PUBACKs that never come: after ack_timeout the client reconnects and every message arrives")
    func ackTimeout() async throws {
        let broker = try TestBroker.start()
        let proxy = try TCPProxy(to: broker.port)
        defer { proxy.close() }
        let setup = try await Self.connect(device: "ack-timeout", mqttKeys: "  ack_timeout: 5s", port: proxy.port, broker: broker)
        // From now on the broker hears nothing on this connection: no PUBLISH reaches it, no PUBACK comes back.
        proxy.dropToTarget()
        try Self.enqueue(5, in: setup)
        let drainer = setup.uplink.drainer
        try await waitUntil("five published and the PUBACK deadline armed") {
            drainer.stats.withLock { $0.published } == 5 && setup.clock.sleeperCount == 1
        }
        #expect(setup.subscriber.distinctSeqs.isEmpty)
        #expect(setup.clock.timeUntilNextWake == 5)
        setup.clock.advance(by: 4.9)
        #expect(drainer.stats.withLock { $0.ackTimeouts } == 0)
        setup.clock.advance(by: 0.1)
        try await waitUntil("every message delivered after the reconnect") { setup.subscriber.distinctSeqs == [1, 2, 3, 4, 5] }
        try await waitUntil("the outbox empty") { try setup.uplink.store.pending(limit: 10).isEmpty }
        #expect(drainer.stats.withLock { $0.ackTimeouts } == 1)
        #expect(setup.log.contains("no PUBACK within ack_timeout (5s) for seq 1; reconnecting to publish it again"))
        await setup.stop()
    }

    @Test("max_publish_rate: in N virtual seconds at most rate × N + burst rows go out, and all arrive")
    func publishRate() async throws {
        let setup = try await Self.connect(device: "rate-limit", mqttKeys: "  max_publish_rate: 10")
        try Self.enqueue(100, in: setup)
        let drainer = setup.uplink.drainer
        // Burst 1 at 10/s, spent by the birth: a row every 0.1 s. Five virtual seconds in steps of 0.1 s.
        for _ in 0..<50 {
            try await waitUntil("the drainer waiting for a token") {
                setup.clock.sleeperCount == 1 && (setup.clock.timeUntilNextWake ?? 0) > 0
            }
            setup.clock.advance(by: 0.1)
        }
        try await waitUntil("the drainer waiting again") {
            setup.clock.sleeperCount == 1 && (setup.clock.timeUntilNextWake ?? 0) > 0
        }
        let published = drainer.stats.withLock { $0.published }
        #expect(published <= 10 * 5 + 1, "\(published) rows in 5 s at 10/s")
        #expect(published >= 40, "\(published) rows in 5 s at 10/s")
        try await waitUntil("what was published delivered") { UInt64(setup.subscriber.distinctSeqs.count) == published }
        #expect(setup.subscriber.distinctSeqs == Array(1...published))
        // PUBACKs are settled in batches after they arrive: the rows go once their batch commits.
        try await waitUntil("the delivered rows deleted") { try setup.uplink.store.pending(limit: 200).count == 100 - Int(published) }
        await setup.stop()
    }
}
