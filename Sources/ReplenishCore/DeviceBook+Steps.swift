import FoundationEssentials

/// The book's one entry point per input (`take`): what a reading, a due report, a command, a
/// resumed delivery or a flush does to the ledgers and policies, as a `BookStep` the keeper
/// commits in one transaction. Built on the inputs of `DeviceBook+Inputs.swift`; no I/O.
extension DeviceBook {
    public typealias Note = BookStep.Note

    public mutating func take(_ input: BookInput, _ context: BookContext) -> BookStep {
        switch input {
        case let .observed(slot, at, observations, health, transition):
            return observed(slot, at: at, observations, health: health, transition: transition, context)
        case .reportDue(let reason):
            return report(reason, reply: nil, context)
        case let .command(name, payload, retained):
            return command(name, payload, retained: retained, context)
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
        }
    }

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
        let events = observe(observations, slot: definition, at: at, fallbackDay: DayKey(at, in: context.calendar),
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
    private func report(_ reason: ReportReason, reply: CommandOutcome.Reply?, _ context: BookContext,
                        notes: [Note] = []) -> BookStep {
        var step = BookStep()
        step.notes = notes
        step.writesBook = true
        let slots = statuses(context.slots, health: health, now: context.now, clock: context.header.clock)
        let groups: [[SlotStatus]]
        do {
            groups = try StatusReport.parts(header: context.header, reason: reason, slots: slots,
                                            maxBytes: context.maxMessageBytes)
        } catch {
            step.notes.append(Note(.error, "status report cannot be encoded; nothing is queued for it",
                                   ["reason": reason.rawValue, "error": "\(error)"]))
            var refused = reply
            refused?.error = "the status report could not be built: \(error)"
            step.messages = refused.map { [.reply($0)] } ?? []
            step.failure.text = "reply not committed"
            return step
        }
        step.messages = Outgoing.report(groups, reason: reason) + (reply.map { [.reply($0)] } ?? [])
        step.reporting = slots
        step.committedNotes = [Note(.info, "status report queued", ["reason": reason.rawValue, "parts": "\(groups.count)"])]
        step.failure = Note(.error, "status report not committed; its consumption goes into the next one",
                            ["reason": reason.rawValue])
        return step
    }

    /// Answers a message on `{base}/commands/{name}` (see `CommandJournal.answer`): its reply and
    /// the events its effects raised, committed with the state it changed; `reportNow` also builds
    /// a report, committed with the reply.
    private mutating func command(_ name: String, _ payload: [UInt8], retained: Bool, _ context: BookContext) -> BookStep {
        let outcome = answer(command: name, payload: payload, retained: retained, slots: context.slots, now: context.now)
        let note = Note(outcome.isWarning ? .warning : .info, outcome.note, [
            "command": outcome.reply?.command ?? CommandDecoder.printable(name, limit: 64),
            "correlationId": outcome.reply?.correlationId ?? "-", "retained": "\(retained)", "bytes": "\(payload.count)",
        ])
        if outcome.buildsReport { return report(.command, reply: outcome.reply, context, notes: [note]) }
        var step = BookStep()
        step.notes = [note]
        step.writesBook = true
        step.messages = (outcome.reply.map { [Outgoing.reply($0)] } ?? []) + outcome.events.map(Outgoing.event)
        step.failure.text = "command answer not committed"
        return step
    }
}
