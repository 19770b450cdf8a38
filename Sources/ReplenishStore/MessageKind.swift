import ReplenishCore

/// What an outbox message is; decides which messages may be evicted when the outbox is full.
public enum MessageKind: String, Sendable, CaseIterable {
    case status
    case event
    case reply
    case availability
}

extension MessageKind {
    /// The outbox's kind of a message the book produced.
    public init(_ kind: Outgoing.Kind) {
        switch kind {
        case .status: self = .status
        case .event: self = .event
        case .reply: self = .reply
        }
    }
}

extension MessageKind {
    /// The `schema` its payload carries, sent again as the MQTT 5 user property `schema`.
    public var schema: String? {
        switch self {
        case .status: StatusReport.schema
        case .event: EventMessage.schema
        case .reply: CommandReply.schema
        case .availability: nil
        }
    }
}
