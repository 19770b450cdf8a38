import Testing
@testable import ReplenishStore

@Suite("outbox")
struct OutboxTests {
    @Test("pending returns oldest first, honouring afterSeq and limit", arguments: [
        (afterSeq: UInt64?.none, limit: 10, expected: [UInt64](1...5)),
        (afterSeq: nil, limit: 2, expected: [1, 2]),
        (afterSeq: 2, limit: 10, expected: [3, 4, 5]),
        (afterSeq: 2, limit: 1, expected: [3]),
        (afterSeq: 5, limit: 10, expected: []),
        (afterSeq: nil, limit: 0, expected: []),
    ])
    func pendingOrder(afterSeq: UInt64?, limit: Int, expected: [UInt64]) throws {
        try withStore { store, _ in
            for _ in 1...5 { try store.enqueueOne() }
            #expect(try store.pending(afterSeq: afterSeq, limit: limit).map(\.seq) == expected)
        }
    }

    @Test("a queued message reads back exactly as enqueued", arguments: MessageKind.allCases)
    func messageRoundTrip(kind: MessageKind) throws {
        try withStore { store, _ in
            let payload: [UInt8] = Array(0...255) + Array("{\"ok\":true}".utf8)
            let seq = try store.enqueueOne(topic: "replenish/dev-1/\(kind.rawValue)", kind: kind, payload: payload, createdAt: 1_700_000_123.5)
            #expect(try store.pending(limit: 1) == [
                OutboxMessage(seq: seq, topic: "replenish/dev-1/\(kind.rawValue)", kind: kind, payload: payload, createdAt: 1_700_000_123.5)
            ])
        }
    }

    @Test("an empty payload reads back as empty")
    func emptyPayload() throws {
        try withStore { store, _ in
            try store.enqueueOne(payload: [])
            #expect(try store.pending(limit: 1).first?.payload == [])
        }
    }

    @Test("acknowledge deletes exactly one row and is idempotent")
    func acknowledge() throws {
        try withStore { store, _ in
            for _ in 1...3 { try store.enqueueOne() }
            try store.acknowledge(seqs: [2])
            #expect(try store.pending(limit: 10).map(\.seq) == [1, 3])
            try store.acknowledge(seqs: [2])
            try store.acknowledge(seqs: [99])
            #expect(try store.pending(limit: 10).map(\.seq) == [1, 3])
        }
    }

    @Test("a batch of acknowledgements deletes exactly those rows, skips the missing, and empty is a no-op")
    func acknowledgeBatch() throws {
        try withStore { store, _ in
            for _ in 1...6 { try store.enqueueOne() }
            try store.acknowledge(seqs: [5, 2, 99, 3])
            #expect(try store.pending(limit: 10).map(\.seq) == [1, 4, 6])
            try store.acknowledge(seqs: [])
            try store.acknowledge(seqs: [2, 6])
            #expect(try store.pending(limit: 10).map(\.seq) == [1, 4])
        }
    }

    @Test("outboxStats counts messages, sums payload bytes and reports the oldest")
    func stats() throws {
        try withStore { store, _ in
            #expect(try store.outboxStats() == OutboxStats(count: 0, bytes: 0, oldestCreatedAt: nil, oldestSeq: nil))
            try store.enqueueOne(payload: [UInt8](repeating: 0, count: 10), createdAt: 100)
            try store.enqueueOne(payload: [UInt8](repeating: 1, count: 20), createdAt: 50)  // clock stepped back
            try store.enqueueOne(payload: [], createdAt: 200)
            #expect(try store.outboxStats() == OutboxStats(count: 3, bytes: 30, oldestCreatedAt: 100, oldestSeq: 1))
            try store.acknowledge(seqs: [1])
            #expect(try store.outboxStats() == OutboxStats(count: 2, bytes: 20, oldestCreatedAt: 50, oldestSeq: 2))
        }
    }

    @Test("evictOldest drops the oldest messages of one kind until the outbox fits", arguments: [
        (maxBytes: 1_000, evicted: [UInt64]()),
        (maxBytes: 70, evicted: []),
        (maxBytes: 69, evicted: [1]),
        (maxBytes: 60, evicted: [1]),
        (maxBytes: 50, evicted: [1, 3]),
        (maxBytes: 0, evicted: [1, 3, 5]),  // events stay even though the bound is not met
    ])
    func evict(maxBytes: Int, evicted: [UInt64]) throws {
        try withStore { store, _ in
            // seq 1, 3, 5 are status reports of 10 bytes each; 2 and 4 are events of 20 bytes each: 70 bytes.
            for seq in 1...5 {
                let kind: MessageKind = seq.isMultiple(of: 2) ? .event : .status
                try store.enqueueOne(kind: kind, payload: [UInt8](repeating: 0, count: kind == .event ? 20 : 10))
            }
            let deleted = try store.commit { transaction in
                try transaction.evictOldest(kind: .status, toFitBytes: maxBytes)
            }
            #expect(deleted == evicted)
            #expect(try store.pending(limit: 10).map(\.seq) == [1, 2, 3, 4, 5].filter { !evicted.contains($0) })
        }
    }

    @Test("evictOldest spares the report just queued even when the bound is not met")
    func evictSparing() throws {
        try withStore { store, _ in
            for seq in 1...5 {
                let kind: MessageKind = seq.isMultiple(of: 2) ? .event : .status
                try store.enqueueOne(kind: kind, payload: [UInt8](repeating: 0, count: kind == .event ? 20 : 10))
            }
            let deleted = try store.commit { transaction in
                try transaction.evictOldest(kind: .status, toFitBytes: 0, sparingFrom: 5)
            }
            #expect(deleted == [1, 3])
            #expect(try store.pending(limit: 10).map(\.seq) == [2, 4, 5])
        }
    }

    @Test("a message refused for good moves to the dead-letter table, which keeps the newest ones")
    func deadLetter() throws {
        try withStore { store, _ in
            try store.commit { tx in
                for _ in 1...5 {
                    let seq = try tx.nextSeq()
                    try tx.enqueue(seq: seq, topic: "t/\(seq)", kind: .event, payload: Array("\(seq)".utf8), createdAt: 0)
                }
            }
            for seq: UInt64 in [1, 2, 4] {
                let moved = try store.deadLetter(seq: seq, reason: "Not authorized (0x87)", at: 100, keep: 2)
                #expect(moved?.seq == seq && moved?.topic == "t/\(seq)" && moved?.payload == Array("\(seq)".utf8))
            }
            #expect(try store.deadLetter(seq: 1, reason: "again", at: 100, keep: 2) == nil)  // gone already
            #expect(try store.pending(limit: 10).map(\.seq) == [3, 5])
            #expect(try store.deadLetters().map(\.seq) == [2, 4])
            #expect(try store.deadLetters().allSatisfy { $0.reason == "Not authorized (0x87)" })
        }
    }

    @Test("a reply's correlation data is kept with its row, read back, and moved with it to the dead letters")
    func correlationData() throws {
        try withStore { store, _ in
            try store.commit { tx in
                try tx.enqueue(seq: try tx.nextSeq(), topic: "cloud/answers", kind: .reply, payload: [1], createdAt: 0,
                               correlationData: [0, 0xfe, 0])
                try tx.enqueue(seq: try tx.nextSeq(), topic: "t/replies", kind: .reply, payload: [2], createdAt: 0)
                try tx.enqueue(seq: try tx.nextSeq(), topic: "t/replies", kind: .reply, payload: [3], createdAt: 0,
                               correlationData: [])
            }
            #expect(try store.pending(limit: 10).map(\.correlationData) == [[0, 0xfe, 0], nil, []])
            let moved = try store.deadLetter(seq: 1, reason: "Not authorized (0x87)", at: 1, keep: 10)
            #expect(moved?.correlationData == [0, 0xfe, 0])
        }
    }

    @Test("the eviction check skips its scan while the outbox is surely within the bound, and still evicts once it is not")
    func evictAfterSkips() throws {
        try withStore { store, _ in
            let report = [UInt8](repeating: 1, count: 100)
            // Each commit queues a report and checks the 1000-byte bound, as the daemon does.
            func queueChecked() throws -> [UInt64] {
                try store.commit { tx in
                    let seq = try tx.nextSeq()
                    try tx.enqueue(seq: seq, topic: "t", kind: .status, payload: report, createdAt: 0)
                    return try tx.evictOldest(kind: .status, toFitBytes: 1000, sparingFrom: seq)
                }
            }
            for _ in 1...10 { #expect(try queueChecked().isEmpty) }  // 1000 bytes: at the bound
            #expect(try queueChecked() == [1])                       // 1100: over it
            // Deliveries lower the real figure; the bound stays an upper bound and nothing is lost.
            try store.acknowledge(seqs: [2, 3, 4])
            for _ in 1...3 { #expect(try queueChecked().isEmpty) }
            #expect(try queueChecked() == [5])
            #expect(try store.outboxStats().bytes == 1000)
            // A rolled-back commit leaves the bound as it was.
            #expect(throws: DeliberateFailure.self) {
                try store.commit { tx in
                    let seq = try tx.nextSeq()
                    try tx.enqueue(seq: seq, topic: "t", kind: .status, payload: report, createdAt: 0)
                    _ = try tx.evictOldest(kind: .status, toFitBytes: 1000, sparingFrom: seq)
                    throw DeliberateFailure()
                }
            }
            #expect(try queueChecked() == [6])
            #expect(try store.outboxStats().bytes == 1000)
        }
    }
}
