/// A row of the outbox.
public struct OutboxMessage: Sendable, Equatable {
    /// The per-device sequence number the payload carries; also the outbox order.
    public var seq: UInt64
    public var topic: String
    public var kind: MessageKind
    public var payload: [UInt8]
    /// Unix seconds from the wall clock at enqueue; informative only, since the clock may jump.
    public var createdAt: Double
    /// A reply to a command that named an MQTT 5 response topic (then `topic`) carries the
    /// command's correlation data back, as the PUBLISH property.
    public var correlationData: [UInt8]?

    public init(seq: UInt64, topic: String, kind: MessageKind, payload: [UInt8], createdAt: Double,
                correlationData: [UInt8]? = nil) {
        self.seq = seq
        self.topic = topic
        self.kind = kind
        self.payload = payload
        self.createdAt = createdAt
        self.correlationData = correlationData
    }
}

extension OutboxMessage {
    /// The columns `init(row:)` expects, in order.
    static let columns = "seq, topic, kind, payload, created_at, correlation_data"

    init(row: PreparedStatement, path: String) throws(StoreError) {
        let operation = "read outbox"
        let kindName = row.text(2)
        guard let kind = MessageKind(rawValue: kindName) else {
            throw StoreError(.invalidValue, operation: operation, path: path, reason: "unknown message kind \"\(kindName)\"")
        }
        self.init(
            seq: try row.seq(0, operation: operation), topic: row.text(1), kind: kind,
            payload: row.blob(3), createdAt: row.double(4), correlationData: row.isNull(5) ? nil : row.blob(5))
    }
}
