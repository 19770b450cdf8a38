import FoundationEssentials

/// What the book is asked to do, one at a time and in order.
public enum BookInput: Sendable {
    /// A slot's filtered observations and sensor health at one instant; `transition` is set on
    /// the sample that faulted the slot or recovered it.
    case observed(slot: String, at: Date, observations: [Observation], health: SlotHealth, transition: HealthTransition?)
    /// A status report is due.
    case reportDue(ReportReason)
    /// A message arrived on `{base}/commands/{name}`; `retained` when the broker marked it so.
    case command(name: String, payload: [UInt8], retained: Bool)
    /// The broker connection is up again: time to tell the cloud what the outbox had to drop
    /// (`evicted`, the outbox's tally, if any).
    case deliveryResumed(evicted: OutboxEviction?)
    /// Write the book now if it changed (flush interval, shutdown).
    case flush
}

/// What the book needs to know about the device and the moment to take an input: the configured
/// slots, the header every message of the step shares (its `generatedAt` is now), the size limit
/// of one message and the zone of days. Time is passed in; the book has no clock of its own.
public struct BookContext: Sendable {
    public var slots: [SlotDefinition]
    /// Device id, agent version, config hash, clock status and now; schema and seq are filled per message.
    public var header: MessageHeader
    public var maxMessageBytes: Int
    /// Gives the day a reading falls on before an accounting day is open.
    public var calendar: Calendar

    public init(slots: [SlotDefinition], header: MessageHeader, maxMessageBytes: Int, calendar: Calendar) {
        self.slots = slots
        self.header = header
        self.maxMessageBytes = maxMessageBytes
        self.calendar = calendar
    }

    public var now: Date { header.generatedAt }
}

/// What one input did: the messages to commit together with the book's rows, and what to log.
/// The keeper commits it in one transaction and, once committed, calls `DeviceBook.committed`.
public struct BookStep: Sendable {
    public var messages: [Outgoing] = []
    /// Write the book even without a message (a flush, the first samples after a start).
    public var writesBook = false
    /// The slots of a status report: stored as they will be once it is committed.
    public var reporting: [SlotStatus]?
    /// Clear the outbox's eviction tally in the same transaction.
    public var clearsTally = false
    /// Logged before the commit, whatever becomes of it.
    public var notes: [Note] = []
    /// Logged once the commit succeeded, each with the seq its message got.
    public var committedNotes: [Note] = []
    /// Logged, with the error, when the commit fails.
    public var failure = Note(.error, "ledger flush failed")
    /// Set when the input changed a slot's sensor health.
    public var healthChanged: (slot: String, health: SlotHealth)?

    public init() {}

    /// Nothing to commit.
    public var isEmpty: Bool { messages.isEmpty && !writesBook }

    /// One line for the journal.
    public struct Note: Sendable, Equatable {
        public enum Level: Sendable, Equatable { case info, notice, warning, error }
        /// The MESSAGE_IDs operators search the journal for.
        public enum Journal: Sendable, Equatable { case sensorFault, sensorRecovered }

        public var level: Level
        public var text: String
        public var fields: [String: String]
        public var journal: Journal?
        /// A committed note gets the `seq` of message number `seqOf` (nil: the step's last).
        public var seqOf: Int?

        public init(_ level: Level, _ text: String, _ fields: [String: String] = [:], journal: Journal? = nil,
                    seqOf: Int? = nil) {
            self.level = level
            self.text = text
            self.fields = fields
            self.journal = journal
            self.seqOf = seqOf
        }
    }
}
