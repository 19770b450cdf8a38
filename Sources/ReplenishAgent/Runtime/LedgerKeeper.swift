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
    let clock: any AgentClock
    let trust: any ClockTrust
    private let calendar: Calendar
    let logger: Logger
    let outboxChanged: @Sendable () -> Void
    let committedSeq: @Sendable (UInt64) -> Void
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

    /// Runs until `inputs` ends, starting from the book persisted in `stored`.
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
            let change = state.book.advanceDay(TimeSample(clock: clock, trust: trust), calendar: calendar)
            if change != .none {
                state.dirty = true
                logger.info("accounting day changed", metadata: ["change": "\(change)"])
            }
            switch input {
            case let .observed(slot, at, sample): await observed(slot, at: at, sample, &state)
            case .reportDue(let reason): await report(reason, &state)
            case let .command(name, payload, retained): await answer(name, payload, retained: retained, &state)
            case .deliveryResumed: await announceEviction(&state)
            case .flush: if state.dirty { await commit([], &state, failed: "ledger flush failed") }
            }
        }
    }

    /// A slot's sample: its health (a fault or recovery is an event of its own), then its
    /// observations through the book, whose ledger and policy events are committed together.
    private func observed(_ slot: String, at: Date, _ sample: SlotSample, _ state: inout State) async {
        guard let definition = config.slots.first(where: { $0.definition.id == slot })?.definition else { return }
        if state.health[slot, default: .ok] != sample.health { healthChanged(slot, sample.health) }
        state.health[slot] = sample.health
        switch sample.transition {
        case .fault(let reason):
            let event = EventMessage.Event.sensorFault(slot: slot, health: sample.health, reason: reason, at: at)
            if let seq = await commit([.event(event)], &state, failed: "sensor event not committed", ["slot": "\(slot)"]) {
                logger.error("sensor fault: the slot's ledger stands still", metadata: JournalMessageID.sensorFault.metadata
                    .merging(["slot": "\(slot)", "reason": "\(reason)", "seq": "\(seq)"]) { $1 })
            }
        case .recovered:
            if let seq = await commit([.event(.sensorRecovered(slot: slot, at: at))], &state,
                                      failed: "sensor event not committed", ["slot": "\(slot)"]) {
                logger.notice("sensor recovered", metadata: JournalMessageID.sensorRecovered.metadata
                    .merging(["slot": "\(slot)", "seq": "\(seq)"]) { $1 })
            }
        case nil:
            break
        }
        let events = state.book.observe(sample.observations, slot: definition, at: at,
                                        fallbackDay: DayKey(at, in: calendar), clock: clockStatus)
        state.dirty = true
        if !events.isEmpty, let seq = await commit(events.map(Outgoing.event), &state, failed: "events not committed") {
            logger.info("events queued", metadata: ["count": "\(events.count)", "seq": "\(seq)"])
        }
        if state.sampled.insert(slot).inserted, state.sampled.count == 1 || state.sampled.count == config.slots.count,
           state.dirty {
            await commit([], &state, failed: "ledger flush failed")
        }
    }

    /// A status report of every slot, with the reply to the command that asked for it, if any. A
    /// report larger than `mqtt.max_message_size` goes out in parts; one that cannot be encoded at
    /// all is logged and answered `rejected`, and the book is written all the same, so it never
    /// holds back the reports after it.
    private func report(_ reason: ReportReason, reply: CommandOutcome.Reply? = nil, _ state: inout State) async {
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
            await commit(refused.map { [.reply($0)] } ?? [], &state, at: now, failed: "reply not committed")
            return
        }
        let messages = Outgoing.report(groups, reason: reason) + (reply.map { [.reply($0)] } ?? [])
        if let seq = await commit(messages, &state, reporting: slots, at: now,
                                  failed: "status report not committed; its consumption goes into the next one",
                                  ["reason": "\(reason.rawValue)"]) {
            state.book.markReported(slots, at: now)
            logger.info("status report queued", metadata: [
                "seq": "\(seq)", "reason": "\(reason.rawValue)", "parts": "\(groups.count)",
            ])
        }
    }

    /// Answers a message on `{base}/commands/{name}` (see `CommandJournal.answer`): its reply, and
    /// the events its effects raised, committed with the state it changed; `reportNow` also builds
    /// a report, committed with the reply.
    private func answer(_ name: String, _ payload: [UInt8], retained: Bool, _ state: inout State) async {
        let now = clock.now()
        let outcome = state.book.answer(command: name, payload: payload, retained: retained,
                                        slots: config.slots.map(\.definition), now: now)
        let metadata: Logger.Metadata = [
            "command": "\(outcome.reply?.command ?? CommandDecoder.printable(name, limit: 64))",
            "correlationId": "\(outcome.reply?.correlationId ?? "-")", "retained": "\(retained)",
            "bytes": "\(payload.count)",
        ]
        logger.log(level: outcome.isWarning ? .warning : .info, "\(outcome.note)", metadata: metadata)
        if outcome.buildsReport { return await report(.command, reply: outcome.reply, &state) }
        let messages = (outcome.reply.map { [Outgoing.reply($0)] } ?? []) + outcome.events.map(Outgoing.event)
        await commit(messages, &state, at: now, failed: "command answer not committed")
    }

    /// Tells the cloud how many status reports the full outbox dropped, once delivery resumes.
    private func announceEviction(_ state: inout State) async {
        guard let eviction = state.outbox.tally else { return }
        if let seq = await commit([.event(.outboxEvicted(eviction))], &state, clearingTally: true,
                                  failed: "eviction event not committed") {
            logger.warning("outbox evictions reported", metadata: [
                "reports": "\(eviction.reports)", "firstSeq": "\(eviction.firstSeq)", "lastSeq": "\(eviction.lastSeq)",
                "seq": "\(seq)",
            ])
        }
    }
}
