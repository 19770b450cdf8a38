import Foundation
import Logging
import ReplenishCore
import ReplenishMQTT
import Testing
@testable import ReplenishAgent
import ReplenishTestSupport

/// The uplink a reload keeps: what the broker delivers between two generations is not lost.
@Suite("uplink across generations", .serialized)
struct UplinkTests {
    @Test("a command that arrives while no generation listens goes to the next one")
    func commandBetweenGenerations() async throws {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start(persistence: false)
        defer { broker.stop() }
        let config = try ConfigLoader.parse(
            testConfig(deviceID: "uplink-1", broker: broker, database: directory.path("state.db")), fileName: "cfg.yaml")
        let log = LogRing()
        let uplink = try Uplink(config: config, liveness: LoopLiveness(),
                                logger: Logger(label: "test.uplink") { RingLogHandler(ring: log, label: $0) })
        let recorder = RuntimeRecorder(brokerURL: broker.url, slots: [])
        let (first, firstFeed) = AsyncStream.makeStream(of: BookInput.self)
        uplink.attach(.init(ledger: firstFeed, recorder: recorder))
        uplink.start()
        // The first generation hears the connection come up, then goes.
        for await input in first {
            if case .deliveryResumed = input { break }
        }
        uplink.detach()

        let sender = try Subscriber(broker: broker, base: "replenish/v1/uplink-1")
        defer { sender.stop() }
        try await sender.ready()
        _ = try sender.client.publish(topic: "replenish/v1/uplink-1/commands/reportNow",
                                      payload: Array(#"{"correlationId":"between"}"#.utf8), qos: 1, retain: false)
        try await waitUntil("the command held for the next generation") {
            log.contains("held for the next generation input=command waiting=1")
        }

        let (second, secondFeed) = AsyncStream.makeStream(of: BookInput.self)
        uplink.attach(.init(ledger: secondFeed, recorder: recorder))
        var iterator = second.makeAsyncIterator()
        let received = await iterator.next()
        let command = Array(#"{"correlationId":"between"}"#.utf8)
        guard let received, case .command = received else {
            Issue.record("expected the command, got \(String(describing: received))")
            return
        }
        // Compared through its description: the case gains fields (retained) in other branches.
        #expect("\(received)".contains(#"name: "reportNow""#), "\(received)")
        #expect("\(received)".contains("payload: \(command)"), "\(received)")
        // Handed over once: a third generation gets the next command, not that one again.
        uplink.detach()
        let (third, thirdFeed) = AsyncStream.makeStream(of: BookInput.self)
        uplink.attach(.init(ledger: thirdFeed, recorder: recorder))
        _ = try sender.client.publish(topic: "replenish/v1/uplink-1/commands/reportNow",
                                      payload: Array(#"{"correlationId":"after"}"#.utf8), qos: 1, retain: false)
        var thirdIterator = third.makeAsyncIterator()
        let next = await thirdIterator.next()
        #expect("\(String(describing: next))".contains("\(Array(#"{"correlationId":"after"}"#.utf8))"), "\(String(describing: next))")
        await uplink.stop(final: true)
    }
}
