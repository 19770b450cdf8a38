import Foundation
import Logging
import ReplenishCore
import ReplenishHardware
import ReplenishStore
import ReplenishSystemd

/// What the ledger keeper is asked to do, one at a time and in order.
enum LedgerInput: Sendable {
    /// A source's filtered observations and health for one slot at one instant.
    case observed(slot: String, at: Date, sample: SlotSample)
    /// A status report is due.
    case reportDue(ReportReason)
    /// A message arrived on `{base}/commands/{name}`; `retained` when the broker marked it so.
    case command(name: String, payload: [UInt8], retained: Bool)
    /// The broker connection is up again: time to tell the cloud what the outbox had to drop.
    case deliveryResumed
    /// Write the in-memory ledgers now (flush interval, shutdown).
    case flush
}

/// Owns the slot ledgers: applies readings, and builds reports, events and command replies,
/// committing each together with the ledger state and the next `seq` in one transaction.
///
/// It consumes one input at a time, so a report never races a reading.
final class LedgerKeeper: Sendable {
    let config: AgentConfig
    let store: StateStore
    let queue: BlockingQueue
    private let clock: any AgentClock
    private let trust: any ClockTrust
    private let calendar: Calendar
    let logger: Logger
    private let outboxChanged: @Sendable () -> Void
    private let committedSeq: @Sendable (UInt64) -> Void
    private let healthChanged: @Sendable (String, SlotHealth) -> Void
    private let liveness: LoopLiveness

    init(config: AgentConfig, store: StateStore, queue: BlockingQueue, clock: any AgentClock, trust: any ClockTrust,
         calendar: Calendar, logger: Logger, liveness: LoopLiveness = LoopLiveness(),
         outboxChanged: @escaping @Sendable () -> Void,
         committedSeq: @escaping @Sendable (UInt64) -> Void = { _ in },
         healthChanged: @escaping @Sendable (String, SlotHealth) -> Void = { _, _ in }) {
        self.config = config
        self.store = store
        self.queue = queue
        self.clock = clock
        self.trust = trust
        self.calendar = calendar
        self.logger = logger
        self.outboxChanged = outboxChanged
        self.committedSeq = committedSeq
        self.healthChanged = healthChanged
        self.liveness = liveness
    }

    /// What the keeper holds between inputs.
    struct State {
        /// Where messages are queued with the book's rows; owns the eviction tally and the
        /// disk-full relief.
        let outbox: Outbox
        /// Ledgers, policies, day accounting and command journal: what is persisted.
        var book = DeviceBook()
        /// The book changed since it was last written.
        var dirty = false
        /// Each slot's sensor health as its source last judged it.
        var health: [String: SlotHealth] = [:]
        /// Slots sampled since start. The book is written at the first sample of any slot and again
        /// once every slot has been sampled (not only at the next flush), so `status` is current
        /// from the start: two writes, however many slots.
        var sampled: Set<String> = []
    }

    /// Runs until `inputs` ends, starting from the ledgers persisted in `stored`.
    func run(inputs: AsyncStream<LedgerInput>, stored: StoredState) async {
        var state = State(outbox: Outbox(store: store, limitBytes: config.storage.outboxLimitBytes,
                                         maxMessageBytes: config.mqtt.maxMessageBytes, tally: Outbox.tally(in: stored.values)))
        let restored = DeviceBook.decode(slots: config.slots.map { ($0.definition.id, $0.replenishment) },
                                         slotStates: stored.slots, values: stored.values)
        state.book = restored.book
        for part in restored.unreadable {
            // A lost command journal means commands answered before may be applied again.
            logger.error("stored state unreadable; that part starts afresh",
                         metadata: ["part": "\(part.key)", "error": "\(part.error)"])
        }
        repair(&state, when: "loaded")

        if (try? await queue.run({ [outbox = state.outbox] in outbox.prepare() })) != true {
            logger.warning("no room for the disk-full reserve yet", metadata: ["path": "\(store.reservePath)"])
        }

        for await input in inputs {
            liveness.begin("store")
            defer { liveness.end("store") }
            advanceDay(&state)
            switch input {
            case let .observed(slot, at, sample):
                guard let definition = config.slots.first(where: { $0.definition.id == slot })?.definition else { continue }
                if state.health[slot, default: .ok] != sample.health { healthChanged(slot, sample.health) }
                state.health[slot] = sample.health
                if let transition = sample.transition {
                    await commitHealth(transition, slot: slot, health: sample.health, at: at, state: &state)
                }
                let events = state.book.observe(sample.observations, slot: definition, at: at,
                                                fallbackDay: DayKey(at, in: calendar), clock: clockStatus)
                state.dirty = true
                if !events.isEmpty { await commitEvents(events, state: &state) }
                if state.sampled.insert(slot).inserted,
                   state.sampled.count == 1 || state.sampled.count == config.slots.count, state.dirty {
                    await commitState(&state)
                }

            case .reportDue(let reason):
                await commitReport(reason, state: &state)

            case let .command(name, payload, retained):
                await answer(command: name, payload: payload, retained: retained, state: &state)

            case .deliveryResumed:
                await announceEviction(state: &state)

            case .flush:
                if state.dirty { await commitState(&state) }
            }
        }
    }

    /// Moves the open day on with trusted time; every ledger follows the same change.
    private func advanceDay(_ state: inout State) {
        let change = state.book.advanceDay(TimeSample(clock: clock, trust: trust), calendar: calendar)
        guard change != .none else { return }
        state.dirty = true
        logger.info("accounting day changed", metadata: ["change": "\(change)"])
    }

    /// The header every message of one transaction shares; schema and seq are filled per message.
    private func header(at now: Date) -> MessageHeader {
        MessageHeader(schema: "", deviceId: config.device.id, seq: 0, generatedAt: now,
                      clock: clockStatus, agentVersion: AgentVersion.current, configHash: config.configHash)
    }

    private var clockStatus: ClockStatus { trust.status }

    /// Builds a status report of every slot, with a reply to the command that asked for it, if any.
    /// A report larger than `mqtt.max_message_size` goes out in parts; one that cannot be encoded at
    /// all is logged and answered `rejected`, and the ledgers are written all the same, so it never
    /// holds back the reports after it.
    private func commitReport(_ reason: ReportReason, reply: CommandOutcome.Reply? = nil, state: inout State) async {
        let now = clock.now()
        let slots = state.book.statuses(config.slots.map(\.definition), health: state.health, now: now, clock: clockStatus)
        let groups: [[SlotStatus]]
        do {
            groups = try StatusReport.parts(header: header(at: now), reason: reason, slots: slots,
                                            maxBytes: config.mqtt.maxMessageBytes)
        } catch {
            logger.error("status report cannot be encoded; nothing is queued for it", metadata: [
                "reason": "\(reason.rawValue)", "error": "\(error)",
            ])
            var refused = reply
            refused?.error = "the status report could not be built: \(error)"
            do {
                _ = try await commit(refused.map { [.reply($0)] } ?? [], state: &state, reportedAs: nil, at: now)
            } catch {
                logger.error("reply not committed", metadata: ["error": "\(error)"])
            }
            return
        }
        let messages = Outgoing.report(groups, reason: reason)
        do {
            let seq = try await commit(messages + (reply.map { [.reply($0)] } ?? []), state: &state,
                                       reportedAs: slots, at: now)
            state.book.markReported(slots, at: now)
            logger.info("status report queued", metadata: [
                "seq": "\(seq)", "reason": "\(reason.rawValue)", "parts": "\(groups.count)",
            ])
        } catch {
            logger.error("status report not committed; its consumption goes into the next one",
                         metadata: ["reason": "\(reason.rawValue)", "error": "\(error)"])
        }
    }

    private func commitEvents(_ events: [EventMessage.Event], state: inout State) async {
        let messages = events.map(Outgoing.event)
        do {
            let seq = try await commit(messages, state: &state, reportedAs: nil, at: clock.now())
            logger.info("events queued", metadata: ["count": "\(events.count)", "seq": "\(seq)"])
        } catch {
            logger.error("events not committed", metadata: ["error": "\(error)"])
        }
    }

    /// A sensor fault or recovery, as an event, once per transition.
    private func commitHealth(_ transition: HealthTransition, slot: String, health: SlotHealth, at: Date,
                              state: inout State) async {
        let event: EventMessage.Event = switch transition {
        case .fault(let reason): .sensorFault(slot: slot, health: health, reason: reason, at: at)
        case .recovered: .sensorRecovered(slot: slot, at: at)
        }
        let message = Outgoing.event(event)
        do {
            let seq = try await commit([message], state: &state, reportedAs: nil, at: clock.now())
            switch transition {
            case .fault(let reason):
                logger.error("sensor fault: the slot's ledger stands still", metadata: JournalMessageID.sensorFault.metadata.merging([
                    "slot": "\(slot)", "reason": "\(reason)", "seq": "\(seq)",
                ]) { $1 })
            case .recovered:
                logger.notice("sensor recovered", metadata: JournalMessageID.sensorRecovered.metadata
                    .merging(["slot": "\(slot)", "seq": "\(seq)"]) { $1 })
            }
        } catch {
            logger.error("sensor event not committed", metadata: ["slot": "\(slot)", "error": "\(error)"])
        }
    }

    private func commitState(_ state: inout State) async {
        do {
            _ = try await commit([], state: &state, reportedAs: nil, at: clock.now())
        } catch {
            logger.error("ledger flush failed", metadata: ["error": "\(error)"])
        }
    }

    /// Answers a message on `{base}/commands/{name}` (see `CommandJournal.answer`): its reply, and
    /// the events its effects raised, committed with the state it changed; `reportNow` also builds
    /// a report, committed with the reply.
    private func answer(command name: String, payload: [UInt8], retained: Bool, state: inout State) async {
        let now = clock.now()
        let outcome = state.book.answer(command: name, payload: payload, retained: retained,
                                        slots: config.slots.map(\.definition), now: now)
        let metadata: Logger.Metadata = [
            "command": "\(outcome.reply?.command ?? CommandDecoder.printable(name, limit: 64))",
            "correlationId": "\(outcome.reply?.correlationId ?? "-")", "retained": "\(retained)",
            "bytes": "\(payload.count)",
        ]
        if outcome.isWarning {
            logger.warning("\(outcome.note)", metadata: metadata)
        } else {
            logger.info("\(outcome.note)", metadata: metadata)
        }
        if outcome.buildsReport {
            await commitReport(.command, reply: outcome.reply, state: &state)
            return
        }
        let messages = (outcome.reply.map { [Outgoing.reply($0)] } ?? []) + outcome.events.map(Outgoing.event)
        do {
            _ = try await commit(messages, state: &state, reportedAs: nil, at: now)
        } catch {
            logger.error("command answer not committed", metadata: ["error": "\(error)"])
        }
    }

    /// Tells the cloud how many status reports the full outbox dropped, once delivery resumes.
    private func announceEviction(state: inout State) async {
        guard let eviction = state.outbox.tally else { return }
        do {
            let seq = try await commit([.event(.outboxEvicted(eviction))], state: &state, reportedAs: nil, at: clock.now(),
                                       clearingTally: true)
            logger.warning("outbox evictions reported", metadata: [
                "reports": "\(eviction.reports)", "firstSeq": "\(eviction.firstSeq)", "lastSeq": "\(eviction.lastSeq)",
                "seq": "\(seq)",
            ])
        } catch {
            logger.error("eviction event not committed", metadata: ["error": "\(error)"])
        }
    }

    /// Writes the book and queues `messages` with fresh seqs, all in one transaction (see `Outbox`),
    /// then says what the outbox did on the way. Returns the last seq issued (0 for none).
    func commit(_ messages: [Outgoing], state: inout State, reportedAs slots: [SlotStatus]?, at now: Date,
                clearingTally: Bool = false) async throws -> UInt64 {
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
    private func repair(_ state: inout State, when: String) {
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
