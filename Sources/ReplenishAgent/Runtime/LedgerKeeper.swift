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
    private let config: AgentConfig
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

    /// Where the tally of evicted reports is kept between `outboxEvicted` events.
    static let evictionKey = "outbox.evicted"
    /// Where the day accounting (the open day and how it was opened) is kept.
    static let accountingKey = "day.accounting"
    /// Where the correlationIds of answered commands are kept.
    static let journalKey = "commands.journal"

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
        var ledgers: [String: SlotLedger] = [:]
        /// Ledgers changed since they were last written.
        var dirty = false
        /// Reports evicted and not yet announced.
        var eviction: OutboxEviction?
        /// Which local day is open; days close only on trusted time (DESIGN.md, Time).
        var accounting = DayAccounting()
        /// Each slot's sensor health as its source last judged it.
        var health: [String: SlotHealth] = [:]
        /// Each slot's replenishment policy (Dash rules, orders), persisted with the ledgers.
        var policies: [String: ReplenishmentPolicy] = [:]
        /// Commands answered, so one delivered twice is applied once.
        var journal = CommandJournal()
        /// The store's disk-full reserve was given back and is not restored yet.
        var reserveReleased = false
        /// The disk stayed full after that: status reports are being evicted to make room.
        var diskFull = false
        /// Slots whose ledger was written since start with a reading of this run: the first one is
        /// written at once (not at the next flush), so `status` is current from the start.
        var current: Set<String> = []
    }

    static func policyKey(_ slot: String) -> String { "policy." + slot }

    /// Runs until `inputs` ends, starting from the ledgers persisted in `stored`.
    func run(inputs: AsyncStream<LedgerInput>, stored: StoredState) async {
        var state = State()
        for slot in config.slots {
            let id = slot.definition.id
            if let blob = stored.slots[id] {
                do {
                    state.ledgers[id] = try JSONDecoder().decode(SlotLedger.self, from: Data(blob))
                } catch {
                    logger.error("stored ledger unreadable, starting the slot afresh",
                                 metadata: ["slot": "\(id)", "error": "\(error)"])
                }
            }
            if state.ledgers[id] == nil { state.ledgers[id] = SlotLedger() }
        }
        if let blob = stored.values[Self.evictionKey] {
            state.eviction = try? JSONDecoder().decode(OutboxEviction?.self, from: Data(blob))
        }
        for slot in config.slots {
            let id = slot.definition.id
            var policy = stored.values[Self.policyKey(id)]
                .flatMap { try? JSONDecoder().decode(ReplenishmentPolicy.self, from: Data($0)) }
                ?? ReplenishmentPolicy(settings: slot.replenishment)
            policy.settings = slot.replenishment  // the config wins over stored settings
            state.policies[id] = policy
        }
        if let blob = stored.values[Self.accountingKey],
           let accounting = try? JSONDecoder().decode(DayAccounting.self, from: Data(blob)) {
            state.accounting = accounting
        }
        if let blob = stored.values[Self.journalKey] {
            do {
                state.journal = try JSONDecoder().decode(CommandJournal.self, from: Data(blob))
            } catch {
                logger.error("stored command journal unreadable; commands answered before may be applied again",
                             metadata: ["error": "\(error)"])
            }
        }
        repair(&state, when: "loaded")

        if (try? await queue.run({ [store] in store.ensureReserve() })) != true {
            state.reserveReleased = true
            logger.warning("no room for the disk-full reserve yet", metadata: ["path": "\(store.reservePath)"])
        }

        for await input in inputs {
            liveness.begin("store")
            defer { liveness.end("store") }
            advanceDay(&state)
            switch input {
            case let .observed(slot, at, sample):
                guard let definition = config.slots.first(where: { $0.definition.id == slot })?.definition,
                      var ledger = state.ledgers[slot] else { continue }
                if state.health[slot, default: .ok] != sample.health { healthChanged(slot, sample.health) }
                state.health[slot] = sample.health
                if let transition = sample.transition {
                    await commitHealth(transition, slot: slot, health: sample.health, at: at, state: &state)
                }
                var events: [LedgerEvent] = []
                let day = state.accounting.openDay ?? DayKey(at, in: calendar)
                for observation in sample.observations {
                    events += ledger.apply(Reading(slot: slot, at: at, observation: observation),
                                           definition: definition, day: day)
                }
                state.ledgers[slot] = ledger
                state.dirty = true
                let policyEvents = followPolicy(slot: slot, definition: definition, ledger: ledger, events: events,
                                                observed: !sample.observations.isEmpty, at: at, state: &state)
                if !events.isEmpty || !policyEvents.isEmpty {
                    await commitEvents(events.map { .ledger($0) } + policyEvents, state: &state)
                }
                if !sample.observations.isEmpty, state.current.insert(slot).inserted, state.dirty {
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
        let change = state.accounting.advance(clock: clock, trust: trust, calendar: calendar)
        guard change != .none else { return }
        for id in state.ledgers.keys { state.ledgers[id]?.apply(change) }
        state.dirty = true
        logger.info("accounting day changed", metadata: ["change": "\(change)"])
    }

    /// The header every message of one transaction shares; schema and seq are filled per message.
    private func header(at now: Date) -> MessageHeader {
        MessageHeader(schema: "", deviceId: config.device.id, seq: 0, generatedAt: now,
                      clock: clockStatus, agentVersion: AgentVersion.current, configHash: config.configHash)
    }

    private var clockStatus: ClockStatus { trust.status }

    /// One message to queue, encoded once the transaction has given it its seq.
    struct Outgoing: Sendable {
        var topic: String
        var kind: MessageKind
        var schema: String
        var encode: @Sendable (MessageHeader) throws -> [UInt8]
    }

    /// Builds a status report of every slot, with a reply to the command that asked for it, if any.
    /// A report larger than `mqtt.max_message_size` goes out in parts; one that cannot be encoded at
    /// all is logged and answered `rejected`, and the ledgers are written all the same, so it never
    /// holds back the reports after it.
    private func commitReport(_ reason: ReportReason, reply: CommandOutcome.Reply? = nil, state: inout State) async {
        let now = clock.now()
        let slots = config.slots.map { slot in
            let id = slot.definition.id
            var status = SlotStatus(definition: slot.definition, ledger: state.ledgers[id]!,
                                    health: state.health[id] ?? .ok, now: now, clock: clockStatus)
            if let policy = state.policies[id] {
                status.totalQuantityOnHand = policy.totalQuantityOnHand
                status.replenishment = policy.status(at: now)
            }
            return status
        }
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
                _ = try await commit(refused.map { [self.reply($0)] } ?? [], state: &state, reportedAs: nil, at: now)
            } catch {
                logger.error("reply not committed", metadata: ["error": "\(error)"])
            }
            return
        }
        let messages = groups.enumerated().map { index, group in
            Outgoing(topic: topic("status"), kind: .status, schema: StatusReport.schema) { header in
                let part = groups.count == 1 ? nil : StatusReport.Part(
                    number: index + 1, count: groups.count, firstSeq: header.seq - UInt64(index))
                return try StatusReport(header: header, reason: reason, slots: group, part: part).json()
            }
        }
        do {
            let seq = try await commit(messages + (reply.map { [self.reply($0)] } ?? []), state: &state,
                                       reportedAs: slots, at: now)
            for slot in slots { state.ledgers[slot.slot]?.markReported(total: slot.consumedTotal, at: now) }
            logger.info("status report queued", metadata: [
                "seq": "\(seq)", "reason": "\(reason.rawValue)", "parts": "\(groups.count)",
            ])
        } catch {
            logger.error("status report not committed; its consumption goes into the next one",
                         metadata: ["reason": "\(reason.rawValue)", "error": "\(error)"])
        }
    }

    /// The reply to a command, on `{base}/replies`.
    private func reply(_ reply: CommandOutcome.Reply) -> Outgoing {
        Outgoing(topic: topic("replies"), kind: .reply, schema: CommandReply.schema) {
            try CommandReply(header: $0, correlationId: reply.correlationId, command: reply.command,
                             status: reply.error == nil ? .ok : .rejected, error: reply.error).json()
        }
    }

    /// Refills feed the policy first, then a reading is evaluated against the Dash rules.
    private func followPolicy(slot: String, definition: SlotDefinition, ledger: SlotLedger, events: [LedgerEvent],
                              observed: Bool, at: Date, state: inout State) -> [EventMessage.Event] {
        guard var policy = state.policies[slot], observed else { return [] }
        var out: [PolicyEvent] = []
        for event in events {
            switch event {
            case let .refilled(_, from, to, _): out += policy.refilled(to: to, from: from, capacity: definition.capacity, now: at)
            case let .replaced(_, quantity, _): out += policy.refilled(to: quantity, capacity: definition.capacity, now: at)
            }
        }
        let runOut = ledger.expectedRunOut(asOf: at, window: definition.forecastWindowDays, clock: clockStatus)
        out += policy.evaluate(remaining: ledger.remaining, runOut: runOut, capacity: definition.capacity,
                               lowThreshold: definition.lowThreshold, now: at)
        state.policies[slot] = policy
        return out.map { .policy(slot: slot, $0, at: at) }
    }

    private func commitEvents(_ events: [EventMessage.Event], state: inout State) async {
        let messages = events.map { event in
            Outgoing(topic: topic("events"), kind: .event, schema: EventMessage.schema) {
                try EventMessage(header: $0, event: event).json()
            }
        }
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
        let message = Outgoing(topic: topic("events"), kind: .event, schema: EventMessage.schema) {
            try EventMessage(header: $0, event: event).json()
        }
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
        let outcome = state.journal.answer(name: name, payload: payload, retained: retained,
                                           slots: config.slots.map(\.definition),
                                           policies: &state.policies, ledgers: &state.ledgers, now: now)
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
        let messages = (outcome.reply.map { [reply($0)] } ?? []) + outcome.events.map { event in
            Outgoing(topic: topic("events"), kind: .event, schema: EventMessage.schema) {
                try EventMessage(header: $0, event: event).json()
            }
        }
        do {
            _ = try await commit(messages, state: &state, reportedAs: nil, at: now)
        } catch {
            logger.error("command answer not committed", metadata: ["error": "\(error)"])
        }
    }

    /// Tells the cloud how many status reports the full outbox dropped, once delivery resumes.
    private func announceEviction(state: inout State) async {
        guard let eviction = state.eviction else { return }
        let event = Outgoing(topic: topic("events"), kind: .event, schema: EventMessage.schema) {
            try EventMessage(header: $0, event: .outboxEvicted(eviction)).json()
        }
        state.eviction = nil
        do {
            let seq = try await commit([event], state: &state, reportedAs: nil, at: clock.now(), persistEviction: true)
            logger.warning("outbox evictions reported", metadata: [
                "reports": "\(eviction.reports)", "firstSeq": "\(eviction.firstSeq)", "lastSeq": "\(eviction.lastSeq)",
                "seq": "\(seq)",
            ])
        } catch {
            state.eviction = eviction
            logger.error("eviction event not committed", metadata: ["error": "\(error)"])
        }
    }

    private func topic(_ leaf: String) -> String { config.mqtt.baseTopic + "/" + leaf }

    /// Writes the ledgers and queues `messages` with fresh seqs, all in one transaction, so after a
    /// crash at any instant the state and the outbox agree. A status report evicts older ones when
    /// the outbox is over its bound; the evictions are tallied in the same transaction.
    /// Returns the last seq issued (0 for none).
    func commitOnce(_ messages: [Outgoing], state: inout State, reportedAs slots: [SlotStatus]?,
                            at now: Date, persistEviction: Bool = false) async throws -> UInt64 {
        repair(&state, when: "about to be written")
        let states = try encodedStates(state.ledgers, reportedAs: slots, at: now)
        let header = self.header(at: now)
        let limit = config.storage.outboxLimitBytes
        let maxMessageBytes = config.mqtt.maxMessageBytes
        let journal = Array(try JSONEncoder().encode(state.journal))
        let tally = state.eviction
        let accounting = Array(try JSONEncoder().encode(state.accounting))
        let policies = try state.policies.map { (LedgerKeeper.policyKey($0.key), Array(try JSONEncoder().encode($0.value))) }
        let (last, newTally) = try await queue.run { [store] in
            try store.commit { tx in
                var last: UInt64 = 0
                var firstReport: UInt64?
                for message in messages {
                    var h = header
                    h.schema = message.schema
                    h.seq = try tx.nextSeq()
                    let payload = try message.encode(h)
                    // Known before it is queued: a broker drops (or disconnects over) a larger
                    // message and still, under MQTT 3.1.1, may never say so.
                    guard payload.count <= maxMessageBytes else {
                        throw OversizedMessage(topic: message.topic, bytes: payload.count, maxBytes: maxMessageBytes)
                    }
                    try tx.enqueue(seq: h.seq, topic: message.topic, kind: message.kind,
                                   payload: payload, createdAt: now.timeIntervalSince1970)
                    last = h.seq
                    if message.kind == .status, firstReport == nil { firstReport = h.seq }
                }
                var newTally = tally
                if let firstReport {
                    // Every part of the report just built is spared.
                    let evicted = try tx.evictOldest(kind: .status, toFitBytes: limit, sparingFrom: firstReport)
                    newTally = OutboxEviction.adding(evicted, to: tally)
                }
                if persistEviction || newTally != tally {
                    try tx.setValue(LedgerKeeper.evictionKey, Array(try JSONEncoder().encode(newTally)))
                }
                for (id, blob) in states { try tx.setSlotState(id, blob) }
                try tx.setValue(LedgerKeeper.accountingKey, accounting)
                try tx.setValue(LedgerKeeper.journalKey, journal)
                for (key, blob) in policies { try tx.setValue(key, blob) }
                return (last, newTally)
            }
        }
        if let newTally, newTally != tally {
            logger.warning("outbox full: oldest status reports evicted", metadata: JournalMessageID.outboxEvicting.metadata.merging([
                "evictedSoFar": "\(newTally.reports)", "limitBytes": "\(limit)",
            ]) { $1 })
        }
        state.eviction = newTally
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
        for slot in config.slots {
            let id = slot.definition.id
            let repaired = (state.ledgers[id]?.repair(capacity: slot.definition.capacity) ?? [])
                + (state.policies[id]?.repair(capacity: slot.definition.capacity) ?? [])
            for problem in repaired {
                logger.error("impossible slot state repaired", metadata: ["slot": "\(id)", "state": "\(when)", "problem": "\(problem)"])
            }
        }
    }

    /// The ledgers as stored; when a report is being built, as they will be once it is committed.
    private func encodedStates(_ ledgers: [String: SlotLedger], reportedAs slots: [SlotStatus]?,
                               at now: Date) throws -> [(String, [UInt8])] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try ledgers.sorted { $0.key < $1.key }.map { id, ledger in
            var ledger = ledger
            if let status = slots?.first(where: { $0.slot == id }) { ledger.markReported(total: status.consumedTotal, at: now) }
            return (id, Array(try encoder.encode(ledger)))
        }
    }
}

/// A message larger than `mqtt.max_message_size`: refused before it is queued.
struct OversizedMessage: Error, CustomStringConvertible {
    var topic: String
    var bytes: Int
    var maxBytes: Int
    var description: String { "a message for \(topic) of \(bytes) bytes exceeds mqtt.max_message_size (\(maxBytes))" }
}
