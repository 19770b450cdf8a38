import FoundationEssentials

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

    /// The reply to a command, on `{base}/replies`.
    public static func reply(_ reply: CommandOutcome.Reply) -> Outgoing {
        Outgoing(leaf: "replies", kind: .reply, schema: CommandReply.schema) {
            try CommandReply(header: $0, correlationId: reply.correlationId, command: reply.command,
                             status: reply.error == nil ? .ok : .rejected, error: reply.error).json()
        }
    }

    /// A status report on `{base}/status`, one message per part (`StatusReport.parts`); every part
    /// names its number, the count and the first part's seq.
    public static func report(_ groups: [[SlotStatus]], reason: ReportReason) -> [Outgoing] {
        groups.enumerated().map { index, group in
            Outgoing(leaf: "status", kind: .status, schema: StatusReport.schema) { header in
                let part = groups.count == 1 ? nil : StatusReport.Part(
                    number: index + 1, count: groups.count, firstSeq: header.seq - UInt64(index))
                return try StatusReport(header: header, reason: reason, slots: group, part: part).json()
            }
        }
    }
}
