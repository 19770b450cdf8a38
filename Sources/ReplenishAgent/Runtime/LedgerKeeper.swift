import Foundation
import Logging
import ReplenishCore
import ReplenishStore

/// What the ledger keeper is asked to do, one at a time and in order.
enum LedgerInput: Sendable {
    /// A source's observations for one slot at one instant.
    case observed(slot: String, at: Date, observations: [Observation])
    /// A status report is due.
    case reportDue(ReportReason)
    /// Write the in-memory ledgers now (flush interval, shutdown).
    case flush
}

/// Owns the slot ledgers: applies readings, and builds reports and events, committing each
/// together with the ledger state and the next `seq` in one transaction.
///
/// It consumes one input at a time, so a report never races a reading.
final class LedgerKeeper: Sendable {
    private let config: AgentConfig
    private let store: StateStore
    private let queue: BlockingQueue
    private let clock: any AgentClock
    private let calendar: Calendar
    private let logger: Logger
    private let outboxChanged: @Sendable () -> Void
    private let committedSeq: @Sendable (UInt64) -> Void

    init(config: AgentConfig, store: StateStore, queue: BlockingQueue, clock: any AgentClock, calendar: Calendar,
         logger: Logger, outboxChanged: @escaping @Sendable () -> Void,
         committedSeq: @escaping @Sendable (UInt64) -> Void = { _ in }) {
        self.config = config
        self.store = store
        self.queue = queue
        self.clock = clock
        self.calendar = calendar
        self.logger = logger
        self.outboxChanged = outboxChanged
        self.committedSeq = committedSeq
    }

    /// Runs until `inputs` ends, starting from the ledgers persisted in `stored`.
    func run(inputs: AsyncStream<LedgerInput>, stored: StoredState) async {
        var ledgers: [String: SlotLedger] = [:]
        for slot in config.slots {
            let id = slot.definition.id
            if let blob = stored.slots[id] {
                do {
                    ledgers[id] = try JSONDecoder().decode(SlotLedger.self, from: Data(blob))
                } catch {
                    logger.error("stored ledger unreadable, starting the slot afresh",
                                 metadata: ["slot": "\(id)", "error": "\(error)"])
                }
            }
            if ledgers[id] == nil { ledgers[id] = SlotLedger() }
        }
        var dirty = false

        for await input in inputs {
            switch input {
            case let .observed(slot, at, observations):
                guard let definition = config.slots.first(where: { $0.definition.id == slot })?.definition,
                      var ledger = ledgers[slot] else { continue }
                var events: [LedgerEvent] = []
                for observation in observations {
                    events += ledger.apply(Reading(slot: slot, at: at, observation: observation),
                                           definition: definition, calendar: calendar)
                }
                ledgers[slot] = ledger
                dirty = true
                if !events.isEmpty, await commitEvents(events, ledgers: ledgers) { dirty = false }

            case .reportDue(let reason):
                if let reported = await commitReport(reason, ledgers: ledgers) {
                    for (id, total) in reported { ledgers[id]?.markReported(total: total) }
                    dirty = false
                }

            case .flush:
                if dirty, await commitState(ledgers) { dirty = false }
            }
        }
    }

    /// The header every message of one transaction shares; schema and seq are filled per message.
    private func header(at now: Date) -> MessageHeader {
        MessageHeader(schema: "", deviceId: config.device.id, seq: 0, generatedAt: now,
                      clock: clockStatus, agentVersion: AgentVersion.current, configHash: config.configHash)
    }

    private var clockStatus: ClockStatus {
        // Clock trust (adjtimex) comes with the delivery work; until then an RTC vouches for it.
        config.device.hasRTC ? .synchronized : .unsynchronized
    }

    /// One message to queue, encoded once the transaction has given it its seq.
    private struct Outgoing: Sendable {
        var topic: String
        var kind: MessageKind
        var schema: String
        var encode: @Sendable (MessageHeader) throws -> [UInt8]
    }

    /// Builds a status report of every slot; returns the totals it reported, or nil if nothing was committed.
    private func commitReport(_ reason: ReportReason, ledgers: [String: SlotLedger]) async -> [String: Double]? {
        let now = clock.now()
        let slots = config.slots.map { slot in
            SlotStatus(definition: slot.definition, ledger: ledgers[slot.definition.id]!, health: .ok,
                       now: now, calendar: calendar)
        }
        let report = Outgoing(topic: config.mqtt.baseTopic + "/status", kind: .status, schema: StatusReport.schema) {
            try StatusReport(header: $0, reason: reason, slots: slots).json()
        }
        do {
            let seq = try await commit([report], ledgers: ledgers, reportedAs: slots, at: now)
            logger.info("status report queued", metadata: ["seq": "\(seq)", "reason": "\(reason.rawValue)"])
            return Dictionary(uniqueKeysWithValues: slots.map { ($0.slot, $0.consumedTotal) })
        } catch {
            logger.error("status report not committed; its consumption goes into the next one",
                         metadata: ["reason": "\(reason.rawValue)", "error": "\(error)"])
            return nil
        }
    }

    private func commitEvents(_ events: [LedgerEvent], ledgers: [String: SlotLedger]) async -> Bool {
        let messages = events.map { event in
            Outgoing(topic: config.mqtt.baseTopic + "/events", kind: .event, schema: EventMessage.schema) {
                try EventMessage(header: $0, event: event).json()
            }
        }
        do {
            let seq = try await commit(messages, ledgers: ledgers, reportedAs: nil, at: clock.now())
            logger.info("events queued", metadata: ["count": "\(events.count)", "seq": "\(seq)"])
            return true
        } catch {
            logger.error("events not committed", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func commitState(_ ledgers: [String: SlotLedger]) async -> Bool {
        do {
            _ = try await commit([], ledgers: ledgers, reportedAs: nil, at: clock.now())
            return true
        } catch {
            logger.error("ledger flush failed", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Writes the ledgers and queues `messages` with fresh seqs, all in one transaction, so after a
    /// crash at any instant the state and the outbox agree. Returns the last seq issued (0 for none).
    private func commit(_ messages: [Outgoing], ledgers: [String: SlotLedger], reportedAs slots: [SlotStatus]?,
                        at now: Date) async throws -> UInt64 {
        let states = try encodedStates(ledgers, reportedAs: slots)
        let header = self.header(at: now)
        let last = try await queue.run { [store] in
            try store.commit { tx in
                var last: UInt64 = 0
                for message in messages {
                    var h = header
                    h.schema = message.schema
                    h.seq = try tx.nextSeq()
                    try tx.enqueue(seq: h.seq, topic: message.topic, kind: message.kind,
                                   payload: try message.encode(h), createdAt: now.timeIntervalSince1970)
                    last = h.seq
                }
                for (id, blob) in states { try tx.setSlotState(id, blob) }
                return last
            }
        }
        if !messages.isEmpty {
            committedSeq(last)
            outboxChanged()
        }
        return last
    }

    /// The ledgers as stored; when a report is being built, as they will be once it is committed.
    private func encodedStates(_ ledgers: [String: SlotLedger], reportedAs slots: [SlotStatus]?) throws -> [(String, [UInt8])] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try ledgers.sorted { $0.key < $1.key }.map { id, ledger in
            var ledger = ledger
            if let status = slots?.first(where: { $0.slot == id }) { ledger.markReported(total: status.consumedTotal) }
            return (id, Array(try encoder.encode(ledger)))
        }
    }
}

/// The version every message carries as `agentVersion`.
public enum AgentVersion {
    public static let current = "0.1.0"
}
