import Foundation
import ReplenishCore
import ReplenishStore
import Testing
@testable import ReplenishAgent
import ReplenishTestSupport

/// Issue 17 item 1, PUBACK reason codes: mosquitto 2.0.11 answers a QoS 1 PUBLISH its ACL denies
/// with PUBACK 0x87 (not authorized) under MQTT 5, and with a plain PUBACK under 3.1.1 (and drops
/// it). The device may read its commands and write all its topics but `{base}/events`.
@Suite("publishes the broker refuses (MQTT 5 PUBACK reason codes)", .serialized)
struct RefusedPublishTests {
    static let device = "acl-dev"
    static let base = "replenish/v1/acl-dev"

    /// Anonymous clients (the test's subscriber) may use everything under replenish/; the device
    /// logs in as `acl-dev` and may not publish events.
    static func broker() throws -> TestBroker {
        let acl = try TestBroker.aclFile([
            "topic readwrite replenish/#",
            "user \(device)", "topic read \(base)/commands/#", "topic write \(base)/#", "topic deny \(base)/events",
        ])
        // mosquitto's default queue bound, not TestBroker's unbounded 0: mosquitto 2.0.11 with
        // max_queued_messages 0 closes the connection right after a refusing PUBACK (its quota
        // check on that path counts 0 queued packets as over the bound), and no later PUBLISH of
        // that connection is read.
        return try TestBroker.start(extraConfiguration: "acl_file \(acl)\nmax_queued_messages 1000\n")
    }

    /// Rows on `topics` under `base` in this order (kind by topic), seqs from the store's next.
    static func enqueue(_ topics: [String], in setup: FlowControlTests.Setup, base: String = base) throws {
        let kinds: [String: MessageKind] = ["events": .event, "replies": .reply]
        try setup.uplink.store.commit { tx in
            for topic in topics {
                let seq = try tx.nextSeq()
                try tx.enqueue(seq: seq, topic: base + "/" + topic, kind: kinds[topic] ?? .status,
                               payload: syntheticOutboxRow(seq: seq), createdAt: 0)
            }
        }
        setup.uplink.drainerFeed.yield(.outboxChanged)
    }

    @Test("MQTT 5: the refused row stays, is logged and counted, the others deliver, and it goes out again only after a reconnect")
    func refusedRowKept() async throws {
        let setup = try await FlowControlTests.connect(device: Self.device, mqttKeys: "  username: \(Self.device)",
                                                       broker: try Self.broker())
        let drainer = setup.uplink.drainer
        try Self.enqueue(["events", "status", "replies"], in: setup)
        try await waitUntil("the allowed rows delivered and the event refused") {
            setup.subscriber.distinctSeqs == [2, 3] && drainer.stats.withLock { $0.refused } == 1
        }
        try await waitUntil("only the refused row left") { try setup.uplink.store.pending(limit: 10).map(\.seq) == [1] }
        #expect(setup.log.contains("the broker refused the message; it stays in the outbox and goes out again after the next reconnect"),
                "\(setup.log.tail(20))")
        #expect(setup.log.contains("reason=Not authorized (0x87) refusals=1 seq=1"), "\(setup.log.tail(20))")

        // No loop on this connection: a new row goes out, the refused one is not published again.
        try Self.enqueue(["status"], in: setup)
        try await waitUntil("the next row delivered") { setup.subscriber.distinctSeqs == [2, 3, 4] }
        try await waitUntil("its row deleted") { try setup.uplink.store.pending(limit: 10).map(\.seq) == [1] }
        #expect(setup.log.publishCounts[1] == 1)
        #expect(drainer.stats.withLock { ($0.published, $0.refused) } == (4, 1))

        // The next connection publishes it again, and the broker refuses it again.
        setup.uplink.client.reconnect(reason: "test: reconnect")
        try await waitUntil("published and refused again after the reconnect") { drainer.stats.withLock { $0.refused } == 2 }
        #expect(setup.log.publishCounts[1] == 2)
        #expect(try setup.uplink.store.pending(limit: 10).map(\.seq) == [1])
        #expect(setup.subscriber.distinctSeqs == [2, 3, 4])
        await setup.stop()
    }

    @Test("refused three times, a row moves to the dead-letter table and is announced once; a refused announcement is not announced again")
    func deadLettered() async throws {
        let setup = try await FlowControlTests.connect(device: Self.device, mqttKeys: "  username: \(Self.device)",
                                                       broker: try Self.broker())
        let drainer = setup.uplink.drainer
        let (inputs, ledger) = AsyncStream.makeStream(of: BookInput.self)
        setup.uplink.attach(Uplink.Listener(ledger: ledger, recorder: RuntimeRecorder(brokerURL: "mqtt://127.0.0.1", slots: [])))
        try Self.enqueue(["events", "status"], in: setup)
        // The announcement of a dead letter is an event too: on this denied topic it is moved
        // like any other row, but not announced again.
        try setup.uplink.store.commit { tx in
            let seq = try tx.nextSeq()
            try tx.enqueue(seq: seq, topic: Self.base + "/events", kind: .event,
                           payload: Array(#"{"event":"outboxDeadLettered","seq":\#(seq)}"#.utf8), createdAt: 0)
        }
        setup.uplink.drainerFeed.yield(.outboxChanged)
        for attempt in 1...DrainerTestSupport.deadLetterAfter {
            try await waitUntil("refusal round \(attempt)") { drainer.stats.withLock { $0.refused } == 2 * attempt }
            if attempt < DrainerTestSupport.deadLetterAfter { setup.uplink.client.reconnect(reason: "test: reconnect \(attempt)") }
        }
        try await waitUntil("both refused rows moved") { drainer.stats.withLock { $0.deadLettered } == 2 }
        #expect(try setup.uplink.store.pending(limit: 10).isEmpty)
        let letters = try setup.uplink.store.deadLetters()
        #expect(letters.map(\.seq) == [1, 3] && letters.allSatisfy { $0.reason == "Not authorized (0x87)" })
        #expect(setup.subscriber.distinctSeqs == [2])
        #expect(setup.log.contains("the broker refused the message 3 times; moved to the dead-letter table"), "\(setup.log.tail(20))")
        // replenishd status counts them and names the last.
        let status = try DeviceStatus.read(config: setup.config)
        #expect(status.outbox.deadLetters == 2 && status.outbox.lastDeadLetter?.seq == 3)
        #expect(StatusText.outbox(status.outbox).hasSuffix(
            " · 2 dead letters (last seq 3 on \(letters[1].topic): Not authorized (0x87))"), "\(StatusText.outbox(status.outbox))")
        // One announcement, for seq 1: the keeper turns it into an outboxDeadLettered event.
        ledger.finish()
        var announced: [DeadLetter] = []
        for await input in inputs { if case .deadLettered(let letter) = input { announced.append(letter) } }
        #expect(announced == [DeadLetter(seq: 1, topic: Self.base + "/events", reason: "Not authorized (0x87)", refusals: 3)])
        await setup.stop()
    }

    @Test("MQTT 3.1.1: the same publish is acknowledged, its row deleted, and nobody receives it")
    func version311Drops() async throws {
        let setup = try await FlowControlTests.connect(device: Self.device, mqttKeys: "  username: \(Self.device)\n  protocol: 3.1.1",
                                                       broker: try Self.broker())
        let drainer = setup.uplink.drainer
        try Self.enqueue(["events", "status"], in: setup)
        try await waitUntil("the outbox empty") { try setup.uplink.store.pending(limit: 10).isEmpty }
        try await waitUntil("the allowed row delivered") { setup.subscriber.distinctSeqs == [2] }
        // Counted once the batch's delete committed, just after the rows went.
        try await waitUntil("both counted delivered") { drainer.stats.withLock { $0.delivered } == 2 }
        #expect(drainer.stats.withLock { $0.refused } == 0)
        await setup.stop()
    }

    @Test("MQTT 5: a refused state (not an outbox row) is logged with its topic and the broker's reason")
    func refusedStateLogged() async throws {
        let acl = try TestBroker.aclFile([
            "topic readwrite replenish/#",
            "user \(Self.device)", "topic read \(Self.base)/commands/#", "topic write \(Self.base)/#",
            "topic deny \(Self.base)/state",
        ])
        let broker = try TestBroker.start(extraConfiguration: "acl_file \(acl)\nmax_queued_messages 1000\n")
        let setup = try await FlowControlTests.connect(device: Self.device, mqttKeys: "  username: \(Self.device)",
                                                       broker: broker)
        setup.uplink.drainerFeed.yield(.state(Array(#"{"schema":"replenish.state/1"}"#.utf8)))
        try await waitUntil("the refusal logged") {
            setup.log.contains("the broker refused the state; the next connect sends it again")
        }
        #expect(setup.log.contains("reason=Not authorized (0x87) topic=\(Self.base)/state"), "\(setup.log.tail(10))")
        // The birth message was accepted: no such line for it.
        #expect(!setup.log.contains("the broker refused the birth message"))
        await setup.stop()
    }

    @Test("replenishd status shows the refusals the daemon recorded")
    func statusShowsRefusals() {
        let recorder = RuntimeRecorder(brokerURL: "mqtt://127.0.0.1", slots: [])
        recorder.publishRefused(seq: 7, reason: "Not authorized (0x87)")
        recorder.publishRefused(seq: 12, reason: "Quota exceeded (0x97)")
        let refused = recorder.current.refused
        #expect(refused?.count == 2 && refused?.lastSeq == 12 && refused?.lastReason == "Quota exceeded (0x97)")
        var outbox = DeviceStatus.Outbox(messages: 2, bytes: 100, evictedUnannounced: 0)
        #expect(StatusText.refused(outbox) == "")
        outbox.refused = 2
        outbox.lastRefusedSeq = 12
        outbox.lastRefusal = "Quota exceeded (0x97)"
        #expect(StatusText.outbox(outbox) == "2 messages, 100 B · 2 refused by the broker (last seq 12: Quota exceeded (0x97))")
    }
}

enum DrainerTestSupport {
    static var deadLetterAfter: Int { OutboxDrainer.deadLetterAfter }
}
