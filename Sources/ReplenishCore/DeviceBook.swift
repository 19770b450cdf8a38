import FoundationEssentials

/// What the device keeps between runs beside the outbox: each slot's ledger and replenishment
/// policy, the open accounting day and the commands already answered (the outbox keeps its own
/// tally of evicted reports). How each part is stored (the keys of the state database's
/// `slot_state` and `agent_value` tables, and their JSON) is decided here and only here: the
/// daemon writes and reads the book through `encoded…` and `decode`, and `replenishd status`
/// reads it the same way.
public struct DeviceBook: Sendable, Equatable {
    public var ledgers: [String: SlotLedger] = [:]
    public var policies: [String: ReplenishmentPolicy] = [:]
    public var accounting = DayAccounting()
    public var journal = CommandJournal()
    /// Each slot's sensor health as its source last judged it (not stored: a start re-reads it).
    public var health: [String: SlotHealth] = [:]
    /// The book changed since it was last written.
    public var unsaved = false
    /// Slots sampled since the start: the book is written at the first sample of any slot and
    /// again once every slot has been sampled, so `status` is current from the start.
    public var sampled: Set<String> = []
    /// The start-up report is due and waits for the first reading of every slot (or
    /// `startupWaitOver`); not stored.
    public var startupWaiting = false

    public init() {}

    /// The `agent_value` keys (`slot_state` is keyed by slot id).
    public enum Key {
        public static let accounting = "day.accounting"
        public static let journal = "commands.journal"
        public static func policy(_ slot: String) -> String { "policy." + slot }
    }

    /// A stored part that could not be decoded; the book holds a fresh one in its place.
    public struct Unreadable: Sendable, Equatable, CustomStringConvertible {
        public var key: String
        public var error: String
        public var description: String { "\(key): \(error)" }
    }

    /// The book as stored, for the configured slots: a slot without a stored ledger starts empty,
    /// and each policy takes its settings from the config (`settings`), which win over stored ones.
    /// Stored parts of slots no longer configured are left out.
    public static func decode(slots: [(id: String, settings: ReplenishmentSettings)], slotStates: [String: [UInt8]],
                              values: [String: [UInt8]]) -> (book: DeviceBook, unreadable: [Unreadable]) {
        var book = DeviceBook()
        var unreadable: [Unreadable] = []
        func read<T: Decodable>(_ type: T.Type, _ blob: [UInt8]?, key: String) -> T? {
            guard let blob else { return nil }
            do {
                return try JSONDecoder().decode(T.self, from: Data(blob))
            } catch {
                unreadable.append(Unreadable(key: key, error: "\(error)"))
                return nil
            }
        }
        for (id, settings) in slots {
            book.ledgers[id] = read(SlotLedger.self, slotStates[id], key: "slot " + id) ?? SlotLedger()
            var policy = read(ReplenishmentPolicy.self, values[Key.policy(id)], key: Key.policy(id))
                ?? ReplenishmentPolicy(settings: settings)
            policy.settings = settings
            book.policies[id] = policy
        }
        book.accounting = read(DayAccounting.self, values[Key.accounting], key: Key.accounting) ?? DayAccounting()
        book.journal = read(CommandJournal.self, values[Key.journal], key: Key.journal) ?? CommandJournal()
        return (book, unreadable)
    }

    /// Each ledger as `slot_state` stores it, by slot id in order; `reported` marks the slots of a
    /// report being committed with them as they will be once it is (consumption total, time).
    public func encodedLedgers(reported: [String: Double] = [:], at now: Date) throws -> [(id: String, blob: [UInt8])] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try ledgers.sorted { $0.key < $1.key }.map { id, ledger in
            var ledger = ledger
            if let total = reported[id] { ledger.markReported(total: total, at: now) }
            return (id, Array(try encoder.encode(ledger)))
        }
    }

    /// The `agent_value` rows written with every commit: day accounting, the command journal and
    /// each policy.
    public func encodedValues() throws -> [(key: String, blob: [UInt8])] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return try [(Key.accounting, Array(encoder.encode(accounting))), (Key.journal, Array(encoder.encode(journal)))]
            + policies.sorted { $0.key < $1.key }.map { (Key.policy($0.key), Array(try encoder.encode($0.value))) }
    }
}
