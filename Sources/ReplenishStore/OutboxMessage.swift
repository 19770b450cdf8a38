/// A row of the outbox.
public struct OutboxMessage: Sendable, Equatable {
    /// The per-device sequence number the payload carries; also the outbox order.
    public var seq: UInt64
    public var topic: String
    public var kind: MessageKind
    public var payload: [UInt8]
    /// Unix seconds from the wall clock at enqueue; informative only, since the clock may jump.
    public var createdAt: Double

    public init(seq: UInt64, topic: String, kind: MessageKind, payload: [UInt8], createdAt: Double) {
        self.seq = seq
        self.topic = topic
        self.kind = kind
        self.payload = payload
        self.createdAt = createdAt
    }
}

extension OutboxMessage {
    /// The columns `init(row:)` expects, in order.
    static let columns = "seq, topic, kind, payload, created_at"

    init(row: PreparedStatement, path: String) throws(StoreError) {
        let operation = "read outbox"
        let kindName = row.text(2)
        guard let kind = MessageKind(rawValue: kindName) else {
            throw StoreError(.invalidValue, operation: operation, path: path, reason: "unknown message kind \"\(kindName)\"")
        }
        self.init(
            seq: try row.seq(0, operation: operation), topic: row.text(1), kind: kind,
            payload: row.blob(3), createdAt: row.double(4))
    }
}
