import FoundationEssentials
import Logging
import ReplenishCore
import ReplenishStore
import Synchronization

/// Keeps the device's book: takes one input at a time (so a report never races a reading), lets
/// the book say what the input changes and what it gives the cloud (`DeviceBook.take`), commits
/// that with the book's rows and fresh seqs in one transaction (`Outbox.commit`) on the store's
/// queue, and tells the drainer. A failed commit is logged; the counts stay in the book for the
/// next one.
final class LedgerKeeper: Sendable {
    private let config: AgentConfig
    private let store: StateStore
    private let queue: BlockingQueue
    private let clock: any AgentClock
    private let trust: any ClockTrust
    private let zone: LocalZone
    private let logger: Logger
    private let liveness: LoopLiveness
    /// Where the messages it commits go (the outbox), and whom it tells.
    let outbox: Outbox
    private let drainer: AsyncStream<DrainerInput>.Continuation
    private let recorder: RuntimeRecorder
    private let committed = Atomic<UInt64>(0)

    init(config: AgentConfig, store: StateStore, queue: BlockingQueue, clock: any AgentClock, trust: any ClockTrust,
         zone: LocalZone, stored: StoredState, drainer: AsyncStream<DrainerInput>.Continuation,
         recorder: RuntimeRecorder, liveness: LoopLiveness, logger: Logger) {
        self.config = config
        self.store = store
        self.queue = queue
        self.clock = clock
        self.trust = trust
        self.zone = zone
        self.logger = logger
        self.liveness = liveness
        self.drainer = drainer
        self.recorder = recorder
        outbox = Outbox(store: store, limitBytes: config.storage.outboxLimitBytes,
                        maxMessageBytes: config.mqtt.maxMessageBytes, tally: Outbox.tally(in: stored.values))
    }

    /// Highest seq this keeper committed (0 before the first).
    var lastCommittedSeq: UInt64 { committed.load(ordering: .relaxed) }

    /// Runs until `inputs` ends, starting from the book persisted in `stored`.
    func run(inputs: AsyncStream<BookInput>, stored: StoredState) async {
        let restored = DeviceBook.decode(slots: config.slots.map { ($0.definition.id, $0.replenishment) },
                                         slotStates: stored.slots, values: stored.values)
        var book = restored.book
        for part in restored.unreadable {
            // A lost command journal means commands answered before may be applied again.
            logger.error("stored state unreadable; that part starts afresh",
                         metadata: ["part": "\(part.key)", "error": "\(part.error)"])
        }
        repair(&book, when: "loaded")
        var announced: DeviceState?
        announce(book, context(), &announced)
        if (try? await queue.run({ [outbox] in outbox.prepare() })) != true {
            logger.warning("no room for the disk-full reserve yet", metadata: ["path": "\(store.reservePath)"])
        }
        for await input in inputs {
            liveness.begin("store")
            defer { liveness.end("store") }
            let change = book.advanceDay(TimeSample(clock: clock, trust: trust), zone: zone)
            if change != .none { logger.info("accounting day changed", metadata: ["change": "\(change)"]) }
            let context = self.context()
            var next: BookInput? = input
            if case .deliveryResumed = input { next = .deliveryResumed(evicted: outbox.tally) }
            while let input = next {
                let step = book.take(input, context)
                if let (slot, health) = step.healthChanged { recorder.health(health, slot: slot) }
                for note in step.notes { logger.journal(note) }
                if !step.isEmpty {
                    await commit(step, &book, context)
                    announce(book, context, &announced)
                }
                // The reading the start-up report waited for: the report follows it.
                next = book.startupReady(context) ? .reportDue(.startup) : nil
            }
        }
    }

    /// Tells the drainer the device's state (`{base}/state`) when it differs from the last one told.
    private func announce(_ book: DeviceBook, _ context: BookContext, _ announced: inout DeviceState?) {
        let state = book.state(slots: context.slots, configHash: context.header.configHash, at: context.now)
        guard state != announced else { return }
        do {
            drainer.yield(.state(try state.encoded(header: context.header)))
            announced = state
        } catch {
            logger.error("device state not encoded", metadata: ["error": "\(error)"])
        }
    }

    /// The slots, the header of this instant's messages and the limits, for the book.
    private func context() -> BookContext {
        let header = MessageHeader(schema: "", deviceId: config.device.id, seq: 0, generatedAt: clock.now(),
                                   clock: trust.status, agentVersion: AgentVersion.current, configHash: config.configHash)
        return BookContext(slots: config.slots.map(\.definition), header: header,
                           maxMessageBytes: config.mqtt.maxMessageBytes, zone: zone,
                           alexaEndpointId: config.device.alexaEndpointID)
    }

    /// Writes the book and queues the step's messages with fresh seqs, all in one transaction,
    /// then logs what the outbox did on the way and what the step said.
    private func commit(_ step: BookStep, _ book: inout DeviceBook, _ context: BookContext) async {
        repair(&book, when: "about to be written")
        do {
            // The ledgers as stored; when a report is being built, as they will be once it is committed.
            let reported = Dictionary(uniqueKeysWithValues: (step.reporting ?? []).map { ($0.slot, $0.consumedTotal) })
            let ledgers = try book.encodedLedgers(reported: reported, at: context.now)
            let values = try book.encodedValues()
            let messages = step.messages.map { Outbox.Message($0, base: config.mqtt.baseTopic, header: context.header) }
            let (result, notes) = try await queue.run { [outbox] in
                var notes: [Outbox.Note] = []
                let result = Result {
                    try outbox.commit(messages, slotRows: ledgers, values: values,
                                      createdAt: context.now.timeIntervalSince1970, clearingTally: step.clearsTally,
                                      notes: &notes)
                }
                return (result, notes)
            }
            for note in notes { logger.journal(note, path: store.path, limitBytes: config.storage.outboxLimitBytes) }
            let last = try result.get()
            book.committed(step, at: context.now)
            if !messages.isEmpty {
                committed.store(max(committed.load(ordering: .relaxed), last), ordering: .relaxed)
                drainer.yield(.outboxChanged)
            }
            let first = last + 1 - UInt64(messages.count)
            for note in step.committedNotes {
                logger.journal(note, seq: note.seqOf.map { first + UInt64($0) } ?? last)
            }
        } catch {
            logger.journal(step.failure, error: error)
        }
    }

    /// Repairs ledger and policy values no bounded input could have produced (see `StateRepair`),
    /// logging each repair: such a value must never be written or reported.
    private func repair(_ book: inout DeviceBook, when: String) {
        for (slot, problem) in book.repair(config.slots.map(\.definition)) {
            logger.error("impossible slot state repaired", metadata: ["slot": "\(slot)", "state": "\(when)", "problem": "\(problem)"])
        }
    }
}
