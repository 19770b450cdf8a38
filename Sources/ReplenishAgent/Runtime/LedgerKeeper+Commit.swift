import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishStore
import ReplenishSystemd

/// How the keeper commits: the book's rows and the messages built from it in one transaction
/// through the store's `Outbox`, what the outbox did logged, and a failure logged where it
/// happened while the counts stay in memory for the next commit.
extension LedgerKeeper {
    /// `commitBook` with its failure logged (`failed`, with `metadata` and the error). The last seq
    /// issued (0 for none), or nil when nothing was committed.
    @discardableResult
    func commit(_ messages: [Outgoing], _ state: inout State, reporting slots: [SlotStatus]? = nil, at time: Date? = nil,
                clearingTally: Bool = false, failed: String, _ metadata: Logger.Metadata = [:]) async -> UInt64? {
        do {
            return try await commitBook(messages, state: &state, reportedAs: slots, at: time ?? clock.now(),
                                        clearingTally: clearingTally)
        } catch {
            logger.error("\(failed)", metadata: metadata.merging(["error": "\(error)"]) { $1 })
            return nil
        }
    }

    /// The header every message of one transaction shares; schema and seq are filled per message.
    func header(at now: Date) -> MessageHeader {
        MessageHeader(schema: "", deviceId: config.device.id, seq: 0, generatedAt: now,
                      clock: clockStatus, agentVersion: AgentVersion.current, configHash: config.configHash)
    }

    var clockStatus: ClockStatus { trust.status }

    /// Writes the book and queues `messages` with fresh seqs, all in one transaction (see `Outbox`),
    /// then says what the outbox did on the way. Returns the last seq issued (0 for none).
    func commitBook(_ messages: [Outgoing], state: inout State, reportedAs slots: [SlotStatus]?, at now: Date,
                    clearingTally: Bool) async throws -> UInt64 {
        repair(&state, when: "about to be written")
        // The ledgers as stored; when a report is being built, as they will be once it is committed.
        let ledgers = try state.book.encodedLedgers(
            reported: Dictionary(uniqueKeysWithValues: (slots ?? []).map { ($0.slot, $0.consumedTotal) }), at: now)
        let values = try state.book.encodedValues()
        let header = self.header(at: now)
        let base = config.mqtt.baseTopic
        let queued = messages.map { message in
            Outbox.Message(topic: base + "/" + message.leaf, kind: MessageKind(message.kind)) { seq in
                var h = header
                h.schema = message.schema
                h.seq = seq
                return try message.encode(h)
            }
        }
        let (result, notes) = try await queue.run { [outbox = state.outbox] in
            var notes: [Outbox.Note] = []
            let result = Result { try outbox.commit(queued, slotRows: ledgers, values: values,
                                                    createdAt: now.timeIntervalSince1970, clearingTally: clearingTally,
                                                    notes: &notes) }
            return (result, notes)
        }
        for note in notes { log(note) }
        let last = try result.get()
        state.dirty = false
        if !messages.isEmpty {
            committedSeq(last)
            outboxChanged()
        }
        return last
    }

    /// Repairs ledger and policy values no bounded input could have produced (see `StateRepair`),
    /// logging each repair: such a value must never be written or reported.
    func repair(_ state: inout State, when: String) {
        for (slot, problem) in state.book.repair(config.slots.map(\.definition)) {
            logger.error("impossible slot state repaired", metadata: ["slot": "\(slot)", "state": "\(when)", "problem": "\(problem)"])
        }
    }
}

extension MessageKind {
    /// The outbox's kind of a message the book produced.
    init(_ kind: Outgoing.Kind) {
        switch kind {
        case .status: self = .status
        case .event: self = .event
        case .reply: self = .reply
        }
    }
}
