import ReplenishCore
@testable import ReplenishStore
import Testing

/// `Outbox.commit` without the keeper: messages and the book's rows in one transaction, the
/// byte bound and its tally, the announcement, and a message too large for the broker.
@Suite("outbox commits")
struct OutboxCommitTests {
    static func report(_ bytes: Int) -> Outbox.Message {
        Outbox.Message(topic: "replenish/v1/d/status", kind: .status) { _ in Array(repeating: 0x20, count: bytes) }
    }

    static let event = Outbox.Message(topic: "replenish/v1/d/events", kind: .event) { seq in Array("{\"seq\":\(seq)}".utf8) }

    @Test("messages and rows land together; the bound evicts the oldest reports, never events, and tallies them")
    func boundAndTally() throws {
        try withStore { store, _ in
            let outbox = Outbox(store: store, limitBytes: 1_500, maxMessageBytes: 10_000, tally: nil)
            var notes: [Outbox.Note] = []
            for round in 1...4 {
                _ = try outbox.commit([Self.report(1_000), Self.event], slotRows: [("water", Array("{\"r\":\(round)}".utf8))],
                                      values: [("day.accounting", Array("{}".utf8))], createdAt: Double(round), notes: &notes)
            }
            let pending = try store.pending(limit: 100)
            #expect(pending.filter { $0.kind == .event }.count == 4, "events are never evicted")
            #expect(pending.filter { $0.kind == .status }.map(\.seq) == [7], "only the newest report fits beside the events")
            #expect(outbox.tally == OutboxEviction(reports: 3, firstSeq: 1, lastSeq: 5))
            #expect(notes.last == .boundEvicted(soFar: 3))
            let stored = try store.loadState()
            #expect(Outbox.tally(in: stored.values) == outbox.tally)
            #expect(stored.slots["water"] == Array("{\"r\":4}".utf8))

            // Announced: the tally goes with the announcing message, in the same transaction.
            _ = try outbox.commit([Self.event], slotRows: [], values: [], createdAt: 5, clearingTally: true, notes: &notes)
            #expect(outbox.tally == nil)
            #expect(Outbox.tally(in: try store.loadState().values) == nil)
        }
    }

    @Test("a message larger than the broker takes is refused before it is queued, and nothing of its commit is kept")
    func oversized() throws {
        try withStore { store, _ in
            let outbox = Outbox(store: store, limitBytes: 1 << 20, maxMessageBytes: 500, tally: nil)
            var notes: [Outbox.Note] = []
            #expect(throws: StoreError(code: .oversized, message: "a message for replenish/v1/d/status of 501 bytes exceeds mqtt.max_message_size (500)")) {
                try outbox.commit([Self.event, Self.report(501)], slotRows: [("water", [1])], values: [], createdAt: 1,
                                  notes: &notes)
            }
            let pending = try store.pending(limit: 10)
            let stored = try store.loadState()
            #expect(pending.isEmpty)
            #expect(stored.slots["water"] == nil)
            #expect(stored.lastSeq == 0)
        }
    }
}
