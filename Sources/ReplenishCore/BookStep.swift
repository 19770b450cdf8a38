import FoundationEssentials

/// What the book is asked to do, one at a time and in order.
public enum BookInput: Sendable {
    /// A slot's filtered observations and sensor health at one instant; `transition` is set on
    /// the sample that faulted the slot or recovered it.
    case observed(slot: String, at: Date, observations: [Observation], health: SlotHealth, transition: HealthTransition?)
    /// A status report is due.
    case reportDue(ReportReason)
    /// A message arrived on `{base}/commands/{name}`; `retained` when the broker marked it so;
    /// `replyTo` when it named an MQTT 5 response topic or correlation data.
    case command(name: String, payload: [UInt8], retained: Bool, replyTo: ReplyRoute? = nil)
    /// `report.startup_wait` ran out: the start-up report, if it still waits for a first reading,
    /// goes out now and names the slots without one.
    case startupWaitOver
    /// The broker connection is up again: time to tell the cloud what the outbox had to drop
    /// (`evicted`, the outbox's tally, if any).
    case deliveryResumed(evicted: OutboxEviction?)
    /// Write the book now if it changed (flush interval, shutdown).
    case flush
    /// The broker refused an outbox message for good; it was moved to the dead-letter table.
    case deadLettered(DeadLetter)
}

/// An outbox message the broker refused `refusals` times (MQTT 5 PUBACK reason codes), moved out
/// of the outbox so the rows behind it go on; kept in the database's bounded dead-letter table.
public struct DeadLetter: Sendable, Equatable {
    public var seq: UInt64
    public var topic: String
    /// The broker's last reason (e.g. "Not authorized (0x87)").
    public var reason: String
    public var refusals: Int

    public init(seq: UInt64, topic: String, reason: String, refusals: Int) {
        self.seq = seq
        self.topic = topic
        self.reason = reason
        self.refusals = refusals
    }
}

extension BookInput {
    /// The input's name, for the log.
    public var kind: String {
        switch self {
        case .observed: "observed"
        case .reportDue: "reportDue"
        case .command: "command"
        case .deliveryResumed: "deliveryResumed"
        case .flush: "flush"
        case .deadLettered: "deadLettered"
        case .startupWaitOver: "startupWaitOver"
        }
    }
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
    public var zone: LocalZone
    /// The device's Alexa endpointId (`device.alexa_endpoint_id`, the device id by default).
    public var alexaEndpointId: String

    public init(slots: [SlotDefinition], header: MessageHeader, maxMessageBytes: Int, zone: LocalZone,
                alexaEndpointId: String? = nil) {
        self.slots = slots
        self.header = header
        self.maxMessageBytes = maxMessageBytes
        self.zone = zone
        self.alexaEndpointId = alexaEndpointId ?? header.deviceId
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

/// Where the reply to a command goes when the command said so (MQTT 5 request/response): its
/// response topic instead of `{base}/replies`, with its correlation data as the reply's property.
/// The reply's body keeps `correlationId` all the same, for clouds that read only that.
public struct ReplyRoute: Sendable, Equatable {
    public var responseTopic: String?
    public var correlationData: [UInt8]?

    /// Nil when the command carried neither.
    public init?(responseTopic: String?, correlationData: [UInt8]?) {
        guard responseTopic != nil || correlationData != nil else { return nil }
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }
}

/// One message for the outbox, as the book produces it: where it goes under the base topic, what
/// kind it is, and how it is encoded once the store has given it its seq (the header).
public struct Outgoing: Sendable {
    public enum Kind: String, Sendable {
        case status, event, reply
    }

    /// The topic under `{base}/`: `status`, `events` or `replies`.
    public var leaf: String
    public var kind: Kind
    public var schema: String
    /// A reply's route, when its command gave one (see `ReplyRoute`): the topic instead of
    /// `{base}/{leaf}`, and the correlation data to send with it.
    public var responseTopic: String?
    public var correlationData: [UInt8]?
    public var encode: @Sendable (MessageHeader) throws -> [UInt8]

    public init(leaf: String, kind: Kind, schema: String, encode: @escaping @Sendable (MessageHeader) throws -> [UInt8]) {
        self.leaf = leaf
        self.kind = kind
        self.schema = schema
        self.encode = encode
    }

    /// An event on `{base}/events`.
    public static func event(_ event: EventMessage.Event) -> Outgoing {
        Outgoing(leaf: "events", kind: .event, schema: EventMessage.schema) {
            try EventMessage(header: $0, event: event).json()
        }
    }

    /// The reply to a command, on `{base}/replies` or where `route` says.
    public static func reply(_ reply: CommandOutcome.Reply, route: ReplyRoute? = nil) -> Outgoing {
        var message = Outgoing(leaf: "replies", kind: .reply, schema: CommandReply.schema) {
            try CommandReply(header: $0, correlationId: reply.correlationId, command: reply.command,
                             status: reply.error == nil ? .ok : .rejected, error: reply.error).json()
        }
        message.responseTopic = route?.responseTopic
        message.correlationData = route?.correlationData
        return message
    }

    /// A status report on `{base}/status`, one message per part (`StatusReport.parts`); every part
    /// names its number, the count and the first part's seq.
    public static func report(_ groups: [[SlotStatus]], reason: ReportReason, unreadSlots: [String] = []) -> [Outgoing] {
        groups.enumerated().map { index, group in
            Outgoing(leaf: "status", kind: .status, schema: StatusReport.schema) { header in
                let part = groups.count == 1 ? nil : StatusReport.Part(
                    number: index + 1, count: groups.count, firstSeq: header.seq - UInt64(index))
                return try StatusReport(header: header, reason: reason, slots: group, part: part,
                                        unreadSlots: unreadSlots).json()
            }
        }
    }
}
