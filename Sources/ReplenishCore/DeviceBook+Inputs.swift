import FoundationEssentials

/// The book's inputs: the primitives (a reading's observations, the day change, a command, a
/// report's statuses) and, built on them below, `take`: one entry point for every input the
/// keeper gets (a reading, a due report, a command, a resumed delivery, a flush), returning the
/// `BookStep` to commit. No I/O, no clock of its own: the keeper passes time in and commits what
/// comes out.
extension DeviceBook {
    /// A slot's observations at one instant: each is applied to the slot's ledger on the open
    /// accounting day (`fallbackDay` before one is open); refills and replacements feed the
    /// policy, then the new level is evaluated against the Dash rules. Returns the events to
    /// publish, ledger events first. A sample without observations (a faulty sensor) changes
    /// nothing.
    public mutating func observe(_ observations: [Observation], slot definition: SlotDefinition, at: Date,
                                 fallbackDay: DayKey, clock: ClockStatus) -> [EventMessage.Event] {
        let id = definition.id
        guard var ledger = ledgers[id], !observations.isEmpty else { return [] }
        var events: [LedgerEvent] = []
        let day = accounting.openDay ?? fallbackDay
        for observation in observations {
            events += ledger.apply(Reading(slot: id, at: at, observation: observation), definition: definition, day: day)
        }
        ledgers[id] = ledger
        guard var policy = policies[id] else { return events.map { .ledger($0) } }
        var out: [PolicyEvent] = []
        for event in events {
            switch event {
            case let .refilled(_, from, to, _): out += policy.refilled(to: to, from: from, capacity: definition.capacity, now: at)
            case let .replaced(_, quantity, _): out += policy.refilled(to: quantity, capacity: definition.capacity, now: at)
            }
        }
        let runOut = ledger.expectedRunOut(asOf: at, window: definition.forecastWindowDays, clock: clock)
        out += policy.evaluate(remaining: ledger.remaining, runOut: runOut, capacity: definition.capacity,
                               lowThreshold: definition.lowThreshold, now: at)
        policies[id] = policy
        return events.map { .ledger($0) } + out.map { .policy(slot: id, $0, at: at) }
    }

    /// Moves the open day on with trusted time; every ledger follows the same change.
    public mutating func advanceDay(_ sample: TimeSample, zone: LocalZone) -> DayChange {
        let change = accounting.advance(sample, zone: zone)
        if change != .none {
            unsaved = true
            for id in ledgers.keys { ledgers[id]?.apply(change) }
        }
        return change
    }

    /// Answers a message on `{base}/commands/{name}` (see `CommandJournal.answer`).
    public mutating func answer(command name: String, payload: [UInt8], retained: Bool, slots: [SlotDefinition],
                                now: Date) -> CommandOutcome {
        journal.answer(name: name, payload: payload, retained: retained, slots: slots, policies: &policies,
                       ledgers: &ledgers, now: now)
    }

    /// Every slot as a status report shows it, in the order of `definitions`.
    /// Alexa's messages go to `alexaEndpointId`; a ChangeReport's context holds the other level
    /// slots' levels.
    public func statuses(_ definitions: [SlotDefinition], health: [String: SlotHealth], now: Date,
                         clock: ClockStatus, alexaEndpointId: String = "") -> [SlotStatus] {
        let built = definitions.map { definition in
            let id = definition.id
            var status = SlotStatus(definition: definition, ledger: ledgers[id] ?? SlotLedger(),
                                    health: health[id] ?? .ok, now: now, clock: clock)
            if let policy = policies[id] {
                status.totalQuantityOnHand = policy.totalQuantityOnHand
                status.replenishment = policy.status(at: now)
            }
            status.alexa.endpointId = alexaEndpointId
            return status
        }
        return built.map { status in
            var status = status
            status.alexa.context = built.filter { $0.slot != status.slot }.compactMap(\.alexaLevel)
            return status
        }
    }

    /// After a report of `statuses` is committed: each slot's consumption counts as reported and,
    /// unless the report held Alexa's messages back (untrusted time), as told to Alexa, with the
    /// level its ChangeReport carried.
    public mutating func markReported(_ statuses: [SlotStatus], at now: Date) {
        for status in statuses {
            // Alexa's count is pinned before the report's moves (a ledger stored before it was kept
            // counts from its last report).
            ledgers[status.slot]?.holdForAlexa()
            ledgers[status.slot]?.markReported(total: status.consumedTotal, at: now)
            guard !status.alexa.heldForClock else { continue }
            ledgers[status.slot]?.markAlexaTold(consumed: status.alexa.toldConsumption, at: now)
            if let level = status.alexa.reportedLevel { ledgers[status.slot]?.markAlexaLevelSent(level.value) }
        }
    }

    /// Repairs ledger and policy values no bounded input could have produced (see `StateRepair`);
    /// returns each repair, for the log.
    public mutating func repair(_ definitions: [SlotDefinition]) -> [(slot: String, problem: String)] {
        definitions.flatMap { definition in
            let id = definition.id
            let repaired = (ledgers[id]?.repair(capacity: definition.capacity) ?? [])
                + (policies[id]?.repair(capacity: definition.capacity) ?? [])
            return repaired.map { (id, $0) }
        }
    }
}

/// `take` and the step each input gives.
extension DeviceBook {
    public typealias Note = BookStep.Note

    public mutating func take(_ input: BookInput, _ context: BookContext) -> BookStep {
        switch input {
        case let .observed(slot, at, observations, health, transition):
            return observed(slot, at: at, observations, health: health, transition: transition, context)
        case .reportDue(.startup) where !unread(context).isEmpty:
            startupWaiting = true
            var step = BookStep()
            step.notes = [Note(.info, "start-up report waits for the first reading of every slot",
                               ["unread": unread(context).joined(separator: ",")])]
            return step
        case .reportDue(let reason):
            if reason == .startup { startupWaiting = false }
            return report(reason, reply: nil, context)
        case .startupWaitOver:
            guard startupWaiting else { return BookStep() }
            startupWaiting = false
            let missing = unread(context)
            var step = report(.startup, reply: nil, context, unreadSlots: missing)
            step.notes.append(Note(.warning, "start-up report sent without the first reading of some slots (report.startup_wait ran out)",
                                   ["unread": missing.joined(separator: ",")]))
            return step
        case let .command(name, payload, retained, route):
            return command(name, payload, retained: retained, route: route, context)
        case .deliveryResumed(let evicted?):
            var step = BookStep()
            step.messages = [.event(.outboxEvicted(evicted))]
            step.clearsTally = true
            step.committedNotes = [Note(.warning, "outbox evictions reported", [
                "reports": "\(evicted.reports)", "firstSeq": "\(evicted.firstSeq)", "lastSeq": "\(evicted.lastSeq)",
            ])]
            step.failure.text = "eviction event not committed"
            return step
        case .deliveryResumed(nil):
            return BookStep()
        case .flush:
            var step = BookStep()
            step.writesBook = unsaved
            return step
        case .deadLettered(let letter):
            var step = BookStep()
            step.messages = [.event(.outboxDeadLettered(letter, at: context.now))]
            step.committedNotes = [Note(.warning, "dead-lettered message announced", [
                "deadLetteredSeq": "\(letter.seq)", "topic": letter.topic, "reason": letter.reason,
            ])]
            step.failure.text = "dead-letter event not committed"
            return step
        }
    }

    /// The slots of `context` without a reading (or a failed read) since the start, in config order.
    public func unread(_ context: BookContext) -> [String] {
        context.slots.map(\.id).filter { !sampled.contains($0) }
    }

    /// True once the start-up report waited for, and got, the first reading of every slot: the
    /// keeper then takes `.reportDue(.startup)` again.
    public func startupReady(_ context: BookContext) -> Bool { startupWaiting && unread(context).isEmpty }

    /// After `step` was committed at `now`: the book is written, a report's consumption reported.
    public mutating func committed(_ step: BookStep, at now: Date) {
        unsaved = false
        if let slots = step.reporting { markReported(slots, at: now) }
    }

    /// A slot's sample: its health (a fault or recovery is an event of its own, first), then its
    /// observations through the ledger and the policy, whose events follow.
    private mutating func observed(_ slot: String, at: Date, _ observations: [Observation], health: SlotHealth,
                                   transition: HealthTransition?, _ context: BookContext) -> BookStep {
        var step = BookStep()
        guard let definition = context.slots.first(where: { $0.id == slot }) else { return step }
        if self.health[slot, default: .ok] != health { step.healthChanged = (slot, health) }
        self.health[slot] = health
        switch transition {
        case .fault(let reason):
            step.messages.append(.event(.sensorFault(slot: slot, health: health, reason: reason, at: at)))
            step.committedNotes.append(Note(.error, "sensor fault: the slot's ledger stands still",
                                            ["slot": slot, "reason": reason], journal: .sensorFault, seqOf: 0))
        case .recovered:
            step.messages.append(.event(.sensorRecovered(slot: slot, at: at)))
            step.committedNotes.append(Note(.notice, "sensor recovered", ["slot": slot], journal: .sensorRecovered, seqOf: 0))
        case nil:
            break
        }
        let events = observe(observations, slot: definition, at: at, fallbackDay: DayKey(at, in: context.zone),
                             clock: context.header.clock)
        unsaved = true
        if !events.isEmpty {
            step.messages += events.map(Outgoing.event)
            step.committedNotes.append(Note(.info, "events queued", ["count": "\(events.count)"]))
        }
        step.failure = Note(.error, "events not committed", ["slot": slot])
        if sampled.insert(slot).inserted, sampled.count == 1 || sampled.count == context.slots.count {
            step.writesBook = true
        }
        return step
    }

    /// A status report of every slot, with the reply to the command that asked for it, if any. A
    /// report larger than the message limit goes out in parts; one that cannot be encoded at all
    /// is logged and answered `rejected`, and the book is written all the same, so it never holds
    /// back the reports after it.
    private func report(_ reason: ReportReason, reply: CommandOutcome.Reply?, route: ReplyRoute? = nil,
                        _ context: BookContext, notes: [Note] = [], unreadSlots: [String] = []) -> BookStep {
        var step = BookStep()
        step.notes = notes
        step.writesBook = true
        let slots = statuses(context.slots, health: health, now: context.now, clock: context.header.clock,
                             alexaEndpointId: context.alexaEndpointId)
        let groups: [[SlotStatus]]
        do {
            groups = try StatusReport.parts(header: context.header, reason: reason, slots: slots,
                                            unreadSlots: unreadSlots, maxBytes: context.maxMessageBytes)
        } catch {
            step.notes.append(Note(.error, "status report cannot be encoded; nothing is queued for it",
                                   ["reason": reason.rawValue, "error": "\(error)"]))
            var refused = reply
            refused?.error = "the status report could not be built: \(error)"
            step.messages = refused.map { [.reply($0, route: route)] } ?? []
            step.failure.text = "reply not committed"
            return step
        }
        step.messages = Outgoing.report(groups, reason: reason, unreadSlots: unreadSlots)
            + (reply.map { [.reply($0, route: route)] } ?? [])
        step.reporting = slots
        step.committedNotes = [Note(.info, "status report queued", ["reason": reason.rawValue, "parts": "\(groups.count)"])]
        step.failure = Note(.error, "status report not committed; its consumption goes into the next one",
                            ["reason": reason.rawValue])
        return step
    }

    /// Answers a message on `{base}/commands/{name}` (see `CommandJournal.answer`): its reply and
    /// the events its effects raised, committed with the state it changed; `reportNow` also builds
    /// a report, committed with the reply.
    private mutating func command(_ name: String, _ payload: [UInt8], retained: Bool, route: ReplyRoute?,
                                  _ context: BookContext) -> BookStep {
        let outcome = answer(command: name, payload: payload, retained: retained, slots: context.slots, now: context.now)
        var fields = [
            "command": outcome.reply?.command ?? CommandDecoder.printable(name, limit: 64),
            "correlationId": outcome.reply?.correlationId ?? "-", "retained": "\(retained)", "bytes": "\(payload.count)",
        ]
        if let topic = route?.responseTopic { fields["responseTopic"] = topic }
        let note = Note(outcome.isWarning ? .warning : .info, outcome.note, fields)
        if outcome.buildsReport { return report(.command, reply: outcome.reply, route: route, context, notes: [note]) }
        var step = BookStep()
        step.notes = [note]
        step.writesBook = true
        step.messages = (outcome.reply.map { [Outgoing.reply($0, route: route)] } ?? []) + outcome.events.map(Outgoing.event)
        step.failure.text = "command answer not committed"
        return step
    }
}
