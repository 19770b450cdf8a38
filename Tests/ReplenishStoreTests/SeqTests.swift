import Testing
@testable import ReplenishStore

@Suite("sequence numbers")
struct SeqTests {
    @Test("seq starts at 1 and increases strictly across commits")
    func startsAtOneAndIncreases() throws {
        try withStore { store, _ in
            #expect(try store.loadState().lastSeq == 0)
            var issued: [UInt64] = []
            for _ in 0..<3 {
                issued += try store.commit { transaction in [try transaction.nextSeq(), try transaction.nextSeq()] }
            }
            #expect(issued == [1, 2, 3, 4, 5, 6])
            #expect(try store.loadState().lastSeq == 6)
        }
    }

    @Test("seq continues after the file is closed and reopened")
    func continuesAfterReopen() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let store = try StateStore(path: path)
                for _ in 0..<3 { try store.enqueueOne() }
            }
            let reopened = try StateStore(path: path)
            #expect(try reopened.loadState().lastSeq == 3)
            #expect(try reopened.pending(limit: 10).map(\.seq) == [1, 2, 3])
            #expect(try reopened.enqueueOne() == 4)
        }
    }

    @Test("a transaction whose body throws leaves nothing behind and does not consume its seq")
    func failedTransactionRollsBack() throws {
        try withStore { store, _ in
            try store.enqueueOne()
            try store.commit { transaction in
                try transaction.setSlotState("coffee", [9])
                try transaction.setValue("schedule", [8])
            }
            let before = try store.loadState()

            #expect(throws: DeliberateFailure.self) {
                try store.commit { transaction in
                    let seq = try transaction.nextSeq()
                    try transaction.enqueue(seq: seq, topic: "t", kind: .event, payload: [7], createdAt: 0)
                    try transaction.setSlotState("coffee", [1, 1])
                    try transaction.setSlotState("tea", [2])
                    try transaction.setValue("schedule", [3])
                    throw DeliberateFailure()
                }
            }

            #expect(try store.loadState() == before)
            #expect(try store.pending(limit: 10).map(\.seq) == [1])
            #expect(try store.enqueueOne() == 2)
        }
    }

    @Test("acknowledged seqs are never issued again")
    func acknowledgedSeqsAreNotReused() throws {
        try withStore { store, path in
            try store.enqueueOne()
            try store.enqueueOne()
            try store.acknowledge(seqs: [1])
            try store.acknowledge(seqs: [2])
            #expect(try store.outboxStats().count == 0)
            #expect(try store.enqueueOne() == 3)
            #expect(try StateStore(path: path).enqueueOne() == 4)
        }
    }

    @Test("enqueue refuses a seq that was never issued and one that is already queued")
    func enqueueGuardsSeqs() throws {
        try withStore { store, path in
            let seq = try store.enqueueOne()
            let unissued = #expect(throws: StoreError.self) {
                try store.commit { transaction in
                    try transaction.enqueue(seq: seq + 1, topic: "t", kind: .status, payload: [], createdAt: 0)
                }
            }
            #expect(unissued?.code == .invalidValue)
            #expect(unissued?.message.contains(path) == true)

            let duplicate = #expect(throws: StoreError.self) {
                try store.commit { transaction in
                    try transaction.enqueue(seq: seq, topic: "t", kind: .status, payload: [], createdAt: 0)
                }
            }
            #expect(duplicate?.code == .constraint)
            #expect(try store.pending(limit: 10).count == 1)
        }
    }
}
