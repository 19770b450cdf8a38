/// How much the outbox holds.
public struct OutboxStats: Sendable, Equatable {
    public var count: Int
    /// The sum of payload sizes in bytes (topics and row overhead not included).
    public var bytes: Int
    /// `createdAt` of the lowest-seq message; nil when the outbox is empty.
    public var oldestCreatedAt: Double?
    /// The lowest seq waiting; nil when the outbox is empty.
    public var oldestSeq: UInt64?

    public init(count: Int, bytes: Int, oldestCreatedAt: Double?, oldestSeq: UInt64?) {
        self.count = count
        self.bytes = bytes
        self.oldestCreatedAt = oldestCreatedAt
        self.oldestSeq = oldestSeq
    }
}
