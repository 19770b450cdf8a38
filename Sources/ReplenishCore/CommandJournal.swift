import FoundationEssentials

/// The commands already answered, by correlationId, persisted with the ledgers: a command that
/// arrives again (redelivered after a lost PUBACK, a cloud's retry, a retained copy) is answered
/// again with the first answer and applied only once. Bounded: the newest `capacity` are kept.
public struct CommandJournal: Sendable, Codable, Equatable {
    /// One answered command.
    public struct Entry: Sendable, Codable, Equatable {
        public var correlationId: String
        public var command: String
        /// Identifies the command's content (name and arguments), so a different command reusing
        /// the correlationId is told apart from a copy.
        public var digest: UInt64
        /// Nil when the command was applied; else why it was rejected.
        public var error: String?
        /// The slot the command named; nil for device-wide ones (and entries written before it was kept).
        public var slot: String?
    }

    /// Oldest first.
    public private(set) var entries: [Entry] = []

    /// Correlation ids remembered; at the device's command rate, days of them.
    public static let capacity = 256

    public init() {}

    public func entry(for correlationId: String) -> Entry? {
        entries.last { $0.correlationId == correlationId }
    }

    mutating func record(_ entry: Entry) {
        entries.removeAll { $0.correlationId == entry.correlationId }
        entries.append(entry)
        if entries.count > Self.capacity { entries.removeFirst(entries.count - Self.capacity) }
    }
}

/// What answering one command came to: the reply to send (nil when none is due), the events
/// its effects raised, whether a status report is to be built with the reply, and a line for the log.
public struct CommandOutcome: Sendable, Equatable {
    public struct Reply: Sendable, Equatable {
        public var correlationId: String?
        public var command: String
        /// Nil for `ok`; else the reason of a `rejected` reply.
        public var error: String?
    }

    public var reply: Reply?
    public var events: [EventMessage.Event] = []
    /// `reportNow` was applied: build a status report, committed with the reply.
    public var buildsReport = false
    /// What to log, and whether it is a warning (a rejection or an ignored message).
    public var note: String
    public var isWarning: Bool
}

extension CommandJournal {
    /// Answers the message that arrived on `{base}/commands/{name}`, applying its effect to the
    /// slots' `policies` and `ledgers` at most once per correlationId.
    ///
    /// A retained message is never executed: it is a command someone published with the retain
    /// flag, and the broker hands it over again on every subscription (every start, every reload).
    /// Its first sighting per correlationId is answered `rejected` so the cloud learns why; later
    /// ones and one without a readable correlationId are only logged. An empty payload (clearing a
    /// retained message, retained or not) is no command.
    public mutating func answer(name: String, payload: [UInt8], retained: Bool, slots: [SlotDefinition],
                                policies: inout [String: ReplenishmentPolicy], ledgers: inout [String: SlotLedger],
                                now: Date) -> CommandOutcome {
        // An empty message clears a retained one; the broker passes the clearing on to current
        // subscribers without the retain flag. It carries no command and no correlationId to answer.
        if payload.isEmpty {
            return CommandOutcome(note: "empty message ignored (it clears a retained command)", isWarning: false)
        }
        let drsSlots = Dictionary(slots.compactMap { slot in slot.drsSlotId.map { ($0, slot.id) } }) { first, _ in first }
        let decoded = CommandDecoder.decode(name: name, payload: payload, knownSlots: Set(slots.map(\.id)),
                                            drsSlots: drsSlots)
        if retained { return answerRetained(name: name, payload: payload, decoded: decoded) }

        let request: CommandRequest
        switch decoded {
        case .failure(let rejection):
            return CommandOutcome(reply: .init(correlationId: rejection.correlationId, command: rejection.command ?? name,
                                               error: rejection.reason),
                                  note: "command rejected: \(rejection.reason)", isWarning: true)
        case .success(let accepted):
            request = accepted
        }
        let digest = Self.digest(request.command)
        if let earlier = entry(for: request.correlationId) {
            guard earlier.command == request.name.rawValue, earlier.digest == digest else {
                let reason = "correlationId '\(request.correlationId)' was already used for another command (\(earlier.command))"
                return CommandOutcome(reply: .init(correlationId: request.correlationId, command: request.name.rawValue,
                                                   error: reason),
                                      note: "command rejected: \(reason)", isWarning: true)
            }
            return CommandOutcome(reply: .init(correlationId: request.correlationId, command: earlier.command,
                                               error: earlier.error),
                                  note: "command received again: answered as before, not applied again", isWarning: false)
        }

        var outcome: CommandOutcome
        if case .reportNow = request.command {
            outcome = CommandOutcome(reply: .init(correlationId: request.correlationId, command: request.name.rawValue),
                                     buildsReport: true, note: "command accepted", isWarning: false)
        } else {
            outcome = Self.apply(request, slots: slots, policies: &policies, ledgers: &ledgers, now: now)
        }
        record(Entry(correlationId: request.correlationId, command: request.name.rawValue, digest: digest,
                     error: outcome.reply?.error, slot: request.command.slot))
        return outcome
    }

    private mutating func answerRetained(name: String, payload: [UInt8],
                                         decoded: Result<CommandRequest, CoreError>) -> CommandOutcome {
        let correlationId: String?
        let command: String
        switch decoded {
        case .success(let request): (correlationId, command) = (request.correlationId, request.name.rawValue)
        case .failure(let rejection): (correlationId, command) = (rejection.correlationId, rejection.command ?? name)
        }
        guard let correlationId else {
            return CommandOutcome(note: "retained command ignored; it has no readable correlationId, so it is not answered",
                                  isWarning: true)
        }
        if entry(for: correlationId) != nil {
            return CommandOutcome(note: "retained command ignored; this correlationId was answered before", isWarning: true)
        }
        let reason = "retained commands are never executed: publish commands without the retain flag, and clear this one with an empty retained message"
        record(Entry(correlationId: correlationId, command: command, digest: Self.digest(payload), error: reason))
        return CommandOutcome(reply: .init(correlationId: correlationId, command: command, error: reason),
                              note: "retained command ignored", isWarning: true)
    }

    /// An order notification or inventory change: applied to the slot it names (every slot when it
    /// names none), all or nothing.
    private static func apply(_ request: CommandRequest, slots: [SlotDefinition],
                              policies: inout [String: ReplenishmentPolicy], ledgers: inout [String: SlotLedger],
                              now: Date) -> CommandOutcome {
        let targets = request.command.slot.map { id in slots.filter { $0.id == id } } ?? slots
        var changed = policies
        var events: [EventMessage.Event] = []
        for slot in targets {
            guard var policy = changed[slot.id] else { continue }
            switch policy.apply(request.command, capacity: slot.capacity, now: now) {
            case .success(let produced):
                events += produced.map { .policy(slot: slot.id, $0, at: now) }
                changed[slot.id] = policy
            case .failure(let failure):
                return CommandOutcome(reply: .init(correlationId: request.correlationId, command: request.name.rawValue,
                                                   error: failure.reason),
                                      note: "command rejected: \(failure.reason)", isWarning: true)
            }
        }
        policies = changed
        if case let .inventoryAdjust(slot, _, remaining?) = request.command, let definition = slots.first(where: { $0.id == slot }) {
            ledgers[slot]?.adjustRemaining(to: remaining, definition: definition)
        }
        return CommandOutcome(reply: .init(correlationId: request.correlationId, command: request.name.rawValue),
                              events: events, note: "command accepted", isWarning: false)
    }

    /// FNV-1a over the command's canonical description (name and every argument), so the same
    /// command sent with other whitespace or key order is still the same command.
    static func digest(_ command: Command) -> UInt64 { digest(Array(String(describing: command).utf8)) }

    static func digest(_ bytes: [UInt8]) -> UInt64 {
        bytes.reduce(0xcbf2_9ce4_8422_2325 as UInt64) { ($0 ^ UInt64($1)) &* 0x0000_0100_0000_01b3 }
    }
}
