/// The work of one transaction; valid only inside `StateStore.commit`, which is why it cannot be copied.
public struct StoreTransaction: ~Copyable {
    private let db: SQLiteConnection
    /// An upper bound of the outbox's payload bytes when the transaction began (nil: unknown).
    private let outboxBytesBound: Int?
    /// The outbox's exact payload bytes as an eviction in this transaction left them.
    private(set) var exactOutboxBytes: Int?
    /// Payload bytes queued in this transaction since the bound (or the exact figure) was known.
    private(set) var addedBytes = 0

    init(db: SQLiteConnection, outboxBytesBound: Int? = nil) {
        self.db = db
        self.outboxBytesBound = outboxBytesBound
    }

    /// An upper bound of the outbox's payload bytes as this transaction leaves them, for the next
    /// one: deletes only lower the true figure, so a bound stays a bound without counting them.
    var outboxBytesBoundAfter: Int? { (exactOutboxBytes ?? outboxBytesBound).map { $0 + addedBytes } }

    /// Issues the next seq: strictly increasing and persisted with the transaction, so a seq is
    /// never reused, even after its outbox row was acknowledged and deleted.
    public mutating func nextSeq() throws(StoreError) -> UInt64 {
        let operation = "issue next seq"
        var seq: UInt64 = 0
        try db.query(
            "UPDATE seq_counter SET last_seq = last_seq + 1 WHERE id = 1 RETURNING last_seq",
            operation: operation
        ) { row throws(StoreError) in seq = try row.seq(0, operation: operation) }
        return seq
    }

    /// Raises the last seq issued to `lastSeq` when it is lower; never lowers it.
    mutating func raiseLastSeq(to lastSeq: UInt64) throws(StoreError) {
        let operation = "raise last seq"
        try db.execute(
            "UPDATE seq_counter SET last_seq = max(last_seq, ?1) WHERE id = 1",
            [try .seq(lastSeq, operation: operation, path: db.path)], operation: operation)
    }

    /// Stores the ledger state of one slot, replacing what was there.
    public mutating func setSlotState(_ id: String, _ blob: [UInt8]) throws(StoreError) {
        try db.execute(
            """
            INSERT INTO slot_state (slot_id, state) VALUES (?1, ?2)
            ON CONFLICT (slot_id) DO UPDATE SET state = excluded.state
            """,
            [.text(id), .blob(blob)], operation: "store state of slot \"\(id)\"")
    }

    /// Stores other agent state under `key`, replacing what was there.
    public mutating func setValue(_ key: String, _ blob: [UInt8]) throws(StoreError) {
        try db.execute(
            """
            INSERT INTO agent_value (key, value) VALUES (?1, ?2)
            ON CONFLICT (key) DO UPDATE SET value = excluded.value
            """,
            [.text(key), .blob(blob)], operation: "store value \"\(key)\"")
    }

    /// Queues a message for delivery. `seq` must come from `nextSeq()`: a seq never issued
    /// would later be issued again, and one already queued is refused as a constraint failure.
    public mutating func enqueue(
        seq: UInt64, topic: String, kind: MessageKind, payload: [UInt8], createdAt: Double,
        correlationData: [UInt8]? = nil
    ) throws(StoreError) {
        let operation = "enqueue \(kind.rawValue) message seq \(seq)"
        let inserted = try db.execute(
            """
            INSERT INTO outbox (seq, topic, kind, payload, created_at, correlation_data)
            SELECT ?1, ?2, ?3, ?4, ?5, ?6 FROM seq_counter WHERE id = 1 AND ?1 <= last_seq
            """,
            [try .seq(seq, operation: operation, path: db.path), .text(topic), .text(kind.rawValue),
             .blob(payload), .real(createdAt), correlationData.map(SQLiteValue.blob) ?? .null],
            operation: operation)
        guard inserted == 1 else {
            throw StoreError(.invalidValue, operation: operation, path: db.path, reason: "seq \(seq) was never issued")
        }
        addedBytes += payload.count
    }

    /// Deletes the message with `seq` (acknowledged by the broker); nothing when it is gone.
    public mutating func delete(seq: UInt64) throws(StoreError) {
        let operation = "acknowledge seq \(seq)"
        _ = try db.execute("DELETE FROM outbox WHERE seq = ?1", [try .seq(seq, operation: operation, path: db.path)],
                           operation: operation)
    }

    /// Moves the message with `seq` from the outbox to the dead-letter table (see
    /// `StateStore.deadLetter`); nil when it is gone.
    public mutating func deadLetter(seq: UInt64, reason: String, at movedAt: Double, keep: Int)
        throws(StoreError) -> OutboxMessage? {
        let operation = "dead-letter seq \(seq)"
        let key = try SQLiteValue.seq(seq, operation: operation, path: db.path)
        var moved: OutboxMessage?
        try db.query("SELECT \(OutboxMessage.columns) FROM outbox WHERE seq = ?1", [key], operation: operation) {
            row throws(StoreError) in moved = try OutboxMessage(row: row, path: db.path)
        }
        guard let moved else { return nil }
        _ = try db.execute(
            """
            INSERT OR REPLACE INTO dead_letter (seq, topic, kind, payload, created_at, moved_at, reason, correlation_data)
            SELECT seq, topic, kind, payload, created_at, ?2, ?3, correlation_data FROM outbox WHERE seq = ?1
            """, [key, .real(movedAt), .text(reason)], operation: operation)
        _ = try db.execute("DELETE FROM outbox WHERE seq = ?1", [key], operation: operation)
        _ = try db.execute(
            "DELETE FROM dead_letter WHERE seq NOT IN (SELECT seq FROM dead_letter ORDER BY seq DESC LIMIT ?1)",
            [.integer(Int64(max(1, keep)))], operation: operation)
        return moved
    }

    /// Deletes the oldest messages of `kind` until the outbox's payload bytes are at most
    /// `maxBytes` or none of that kind is left (other than those from `sparingFrom` on), and answers the seqs it
    /// deleted, oldest first. Used to keep the outbox bounded by dropping superseded status
    /// reports first; `sparingFrom` keeps the report just queued (every part of it), which supersedes the others.
    public mutating func evictOldest(kind: MessageKind, toFitBytes maxBytes: Int, sparingFrom: UInt64? = nil)
        throws(StoreError) -> [UInt64] {
        // Nothing can be over the bound while the outbox's upper bound is within it: no scan of
        // the outbox on every report of a device that is delivering.
        if let bound = outboxBytesBoundAfter, bound <= maxBytes { return [] }
        // A row goes when the bytes of its kind queued before it are still short of the excess,
        // i.e. deleting the rows up to and including it is needed to get under the bound.
        let operation = "evict \(kind.rawValue) messages to fit \(maxBytes) bytes"
        var evicted: [UInt64] = []
        try db.query(
            """
            DELETE FROM outbox WHERE seq IN (
                SELECT seq FROM (
                    SELECT seq, sum(length(payload)) OVER (ORDER BY seq) - length(payload) AS before
                    FROM outbox WHERE kind = ?1 AND seq < ?3)
                WHERE before < (SELECT total(length(payload)) FROM outbox) - ?2)
            RETURNING seq
            """,
            [.text(kind.rawValue), .integer(Int64(maxBytes)), .integer(sparingFrom.map { Int64(clamping: $0) } ?? .max)],
            operation: operation
        ) { row throws(StoreError) in evicted.append(try row.seq(0, operation: operation)) }
        var total: Int64 = 0
        try db.query("SELECT total(length(payload)) FROM outbox", operation: operation) { total = Int64($0.double(0)) }
        exactOutboxBytes = Int(total)
        addedBytes = 0
        return evicted.sorted()
    }
}
