import FoundationEssentials

/// The book's inputs, one mutating entry point each: what a reading, a day change, a command or
/// a due report does to the ledgers and policies, and what it gives the cloud. No I/O, no clock
/// of its own: the keeper passes time in and commits what comes out.
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
    public mutating func advanceDay(_ sample: TimeSample, calendar: Calendar) -> DayChange {
        let change = accounting.advance(sample, calendar: calendar)
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
    public func statuses(_ definitions: [SlotDefinition], health: [String: SlotHealth], now: Date,
                         clock: ClockStatus) -> [SlotStatus] {
        definitions.map { definition in
            let id = definition.id
            var status = SlotStatus(definition: definition, ledger: ledgers[id] ?? SlotLedger(),
                                    health: health[id] ?? .ok, now: now, clock: clock)
            if let policy = policies[id] {
                status.totalQuantityOnHand = policy.totalQuantityOnHand
                status.replenishment = policy.status(at: now)
            }
            return status
        }
    }

    /// After a report of `statuses` is committed: each slot's consumption counts as reported.
    public mutating func markReported(_ statuses: [SlotStatus], at now: Date) {
        for status in statuses { ledgers[status.slot]?.markReported(total: status.consumedTotal, at: now) }
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
