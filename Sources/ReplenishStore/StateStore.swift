import Synchronization

/// The daemon's SQLite database: seq counter, ledger and agent state, and the outbox.
/// Thread-safe: every call holds one mutex over the single connection, so calls never interleave.
public final class StateStore: Sendable {
    /// The database file.
    public let path: String
    /// True when opened with `readOnly: true`; writes are then refused.
    public let isReadOnly: Bool
    private let connection: Mutex<SQLiteConnection>
    /// An upper bound of the outbox's payload bytes (nil until an eviction check measured them),
    /// carried from commit to commit; taken only while `connection` is held.
    private let outboxBytesBound = Mutex<Int?>(nil)

    /// Held by a writer for its life: one process writes a database (see `DatabaseLock`).
    private let lock: DatabaseLock?

    /// Opens the database at `path`. A writer takes the database's lock (`.locked` when another
    /// process has it), creates the file when it is missing, refuses one that is empty, damaged
    /// or another program's (see `DatabaseFile.inspect`), switches it to WAL and brings its schema
    /// up to date; a reader (`readOnly: true`) takes no lock, changes nothing and can read while
    /// the daemon writes. With `deviceID`, a database recorded for another device is refused
    /// (`.deviceMismatch`) and one without a recorded id takes this one. `busyTimeoutMilliseconds`
    /// bounds the wait for another connection's lock before a call fails with `.busy`.
    public init(path: String, readOnly: Bool = false, deviceID: String? = nil,
                busyTimeoutMilliseconds: Int32 = 5000) throws(StoreError) {
        let db: SQLiteConnection
        if readOnly {
            guard try DatabaseFile.inspect(path: path, expectedDeviceID: deviceID) != nil else {
                throw StoreError(.cannotOpen, operation: "open read-only", path: path, reason: "no such file")
            }
            db = try SQLiteConnection(path: path, readOnly: true, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            try Schema.requireReadable(db)
            self.lock = nil
        } else {
            let lock = try DatabaseLock(database: path)
            if try DatabaseFile.inspect(path: path, expectedDeviceID: deviceID) == nil {
                try DatabaseFile.create(path: path, deviceID: deviceID)
            }
            DatabaseFile.restrictModes(path: path)
            db = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: busyTimeoutMilliseconds)
            try Self.configureWriter(db)
            try Schema.migrate(db, deviceID: deviceID)
            self.lock = lock
        }
        self.path = path
        self.isReadOnly = readOnly
        self.connection = Mutex(db)
    }

    /// Raises the seq counter so the next seq issued is at least `first`; a lower value changes
    /// nothing. For a fresh start (`replenishd reset`) that must not reuse seqs the cloud has seen.
    public func continueSeqs(from first: UInt64) throws {
        guard first > 1 else { return }
        try commit { transaction in try transaction.raiseLastSeq(to: first - 1) }
    }

    private static func configureWriter(_ db: SQLiteConnection) throws(StoreError) {
        var mode = ""
        try db.query("PRAGMA journal_mode = WAL", operation: "enable WAL") { mode = $0.text(0) }
        guard mode.lowercased() == "wal" else {
            throw StoreError(.cannotOpen, operation: "enable WAL", path: db.path, reason: "journal mode stayed \"\(mode)\"")
        }
        // FULL: in WAL mode, NORMAL may lose the last commits on power loss; a queued report must not.
        try db.execute("PRAGMA synchronous = FULL", operation: "set synchronous")
        try db.execute("PRAGMA foreign_keys = ON", operation: "enable foreign keys")
        // The write-ahead log checkpointed every 64 pages and cut back to 256 KiB afterwards, not
        // SQLite's 1000 pages kept at full size: on a small state partition a 4 MiB log could fill
        // the disk by itself, and a checkpoint on a full disk must fit in the disk reserve
        // (`reserveBytes`) to get the space back (found by `make torture`'s full-disk scenario).
        try db.execute("PRAGMA wal_autocheckpoint = \(walCheckpointPages)", operation: "set WAL checkpoint interval")
        try db.execute("PRAGMA journal_size_limit = \(reserveBytes)", operation: "set WAL size limit")
    }

    /// Pages of write-ahead log between automatic checkpoints: the reserve's worth.
    static let walCheckpointPages = reserveBytes / 4096

    /// Reads the seq counter, every slot's state, and the agent's values, from one snapshot.
    public func loadState() throws(StoreError) -> StoredState {
        try connection.withLock { db throws(StoreError) in
            try db.execute("BEGIN", operation: "begin load")
            defer { db.rollbackIfActive() }  // a read transaction: ending it changes nothing
            var state = StoredState(lastSeq: 0, slots: [:], values: [:])
            try db.query("SELECT last_seq FROM seq_counter WHERE id = 1", operation: "load last seq") {
                row throws(StoreError) in state.lastSeq = try row.seq(0, operation: "load last seq")
            }
            try db.query("SELECT slot_id, state FROM slot_state", operation: "load slot states") {
                state.slots[$0.text(0)] = $0.blob(1)
            }
            try db.query("SELECT key, value FROM agent_value", operation: "load values") {
                state.values[$0.text(0)] = $0.blob(1)
            }
            return state
        }
    }

    /// Runs `body` in one SQLite transaction (BEGIN IMMEDIATE … COMMIT). If `body` throws, or the
    /// commit fails, everything is rolled back, seqs handed out are not consumed, and the error
    /// is rethrown. Do not call the store from inside `body`: the store's mutex is held.
    public func commit<T>(_ body: (inout StoreTransaction) throws -> T) throws -> T {
        try refuseIfReadOnly("commit")
        return try connection.withLock { db in
            // IMMEDIATE takes the write lock now, so a busy database waits here under the busy
            // timeout instead of failing halfway through the body.
            try db.execute("BEGIN IMMEDIATE", operation: "begin transaction")
            do {
                var transaction = StoreTransaction(db: db, outboxBytesBound: outboxBytesBound.withLock { $0 })
                let result = try body(&transaction)
                try db.execute("COMMIT", operation: "commit transaction")
                let bound = transaction.outboxBytesBoundAfter
                outboxBytesBound.withLock { $0 = bound }
                return result
            } catch {
                db.rollbackIfActive()
                throw error
            }
        }
    }

    /// Messages waiting for delivery with seq above `afterSeq`, oldest (lowest seq) first.
    public func pending(afterSeq: UInt64? = nil, limit: Int) throws(StoreError) -> [OutboxMessage] {
        guard limit > 0 else { return [] }
        return try connection.withLock { db throws(StoreError) in
            let operation = "read pending messages"
            var messages: [OutboxMessage] = []
            try db.query(
                "SELECT \(OutboxMessage.columns) FROM outbox WHERE seq > ?1 ORDER BY seq LIMIT ?2",
                [try .seq(afterSeq ?? 0, operation: operation, path: db.path), .integer(Int64(limit))],
                operation: operation
            ) { row throws(StoreError) in
                messages.append(try OutboxMessage(row: row, path: db.path))
            }
            return messages
        }
    }

    /// Deletes the messages with `seqs`, acknowledged by the broker, in one transaction: one
    /// write of the log for a batch of PUBACKs instead of one each. Seqs already gone (a repeated
    /// PUBACK) are skipped.
    public func acknowledge(seqs: [UInt64]) throws {
        guard !seqs.isEmpty else { return }
        try commit { tx in
            for seq in seqs { try tx.delete(seq: seq) }
        }
    }

    /// Moves the outbox message `seq` to the dead-letter table with the broker's `reason`, in one
    /// transaction, and keeps only the newest `keep` dead letters. Returns the message moved, nil
    /// when it was no longer in the outbox.
    public func deadLetter(seq: UInt64, reason: String, at movedAt: Double, keep: Int = 100) throws -> OutboxMessage? {
        try commit { tx in try tx.deadLetter(seq: seq, reason: reason, at: movedAt, keep: keep) }
    }

    /// The dead letters, oldest first: seq, topic and reason.
    public func deadLetters() throws(StoreError) -> [(seq: UInt64, topic: String, reason: String)] {
        try connection.withLock { db throws(StoreError) in
            var letters: [(seq: UInt64, topic: String, reason: String)] = []
            try db.query("SELECT seq, topic, reason FROM dead_letter ORDER BY seq", operation: "read dead letters") {
                row throws(StoreError) in
                letters.append((try row.seq(0, operation: "read dead letters"), row.text(1), row.text(2)))
            }
            return letters
        }
    }

    /// How many messages wait, their payload bytes, and the oldest of them.
    public func outboxStats() throws(StoreError) -> OutboxStats {
        try connection.withLock { db throws(StoreError) in
            var stats = OutboxStats(count: 0, bytes: 0, oldestCreatedAt: nil, oldestSeq: nil)
            try db.query(
                """
                SELECT count(*), total(length(payload)),
                       (SELECT seq FROM outbox ORDER BY seq LIMIT 1),
                       (SELECT created_at FROM outbox ORDER BY seq LIMIT 1)
                FROM outbox
                """,
                operation: "read outbox statistics"
            ) { row throws(StoreError) in
                stats.count = Int(row.int64(0))
                stats.bytes = Int(row.double(1))
                stats.oldestSeq = row.isNull(2) ? nil : try row.seq(2, operation: "read outbox statistics")
                stats.oldestCreatedAt = row.isNull(3) ? nil : row.double(3)
            }
            return stats
        }
    }

    /// The rows of `PRAGMA name`, as text.
    func pragma(_ name: String) throws(StoreError) -> [String] {
        try connection.withLock { db throws(StoreError) in
            var rows: [String] = []
            try db.query("PRAGMA \(name)", operation: "PRAGMA \(name)") { rows.append($0.text(0)) }
            return rows
        }
    }

    private func refuseIfReadOnly(_ operation: String) throws(StoreError) {
        guard isReadOnly else { return }
        throw StoreError(.readOnly, operation: operation, path: path, reason: "the store was opened read-only")
    }
}
