/// The database layout, as an ordered list of migrations; `PRAGMA user_version` records how many
/// have been applied. Append new migrations; never edit one that has shipped.
enum Schema {
    static let migrations: [String] = [
        // 1: the seq counter, ledger and agent state, and the outbox.
        """
        CREATE TABLE seq_counter (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            last_seq INTEGER NOT NULL CHECK (last_seq >= 0)
        );
        INSERT INTO seq_counter (id, last_seq) VALUES (1, 0);
        CREATE TABLE slot_state (
            slot_id TEXT PRIMARY KEY,
            state BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE agent_value (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY CHECK (seq > 0),
            topic TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('status', 'event', 'reply', 'availability')),
            payload BLOB NOT NULL,
            created_at REAL NOT NULL
        );
        CREATE INDEX outbox_by_kind ON outbox (kind, seq);
        """,
    ]

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Brings a writable database up to `currentVersion` in one transaction.
    static func migrate(_ db: SQLiteConnection) throws(StoreError) {
        try db.execute("BEGIN IMMEDIATE", operation: "begin schema migration")
        do throws(StoreError) {
            let found = try version(db)
            guard found <= currentVersion else {
                // A downgraded daemon must not write into a layout it does not know.
                throw StoreError(
                    .schemaVersion, operation: "open", path: db.path,
                    reason: "schema version \(found) is newer than this build's \(currentVersion)")
            }
            for step in Int(found)..<migrations.count {
                try db.executeScript(migrations[step], operation: "migrate schema to version \(step + 1)")
            }
            // PRAGMA takes no bound parameters; the value is our own integer.
            try db.execute("PRAGMA user_version = \(currentVersion)", operation: "record schema version")
            try db.execute("COMMIT", operation: "commit schema migration")
        } catch {
            db.rollbackIfActive()
            throw error
        }
    }

    /// Checks, without writing, that a database opened read-only has exactly the current layout.
    static func requireCurrent(_ db: SQLiteConnection) throws(StoreError) {
        let found = try version(db)
        guard found == currentVersion else {
            throw StoreError(
                .schemaVersion, operation: "open read-only", path: db.path,
                reason: "schema version \(found), this build reads version \(currentVersion)")
        }
    }

    private static func version(_ db: SQLiteConnection) throws(StoreError) -> Int64 {
        var version: Int64 = 0
        try db.query("PRAGMA user_version", operation: "read schema version") { version = $0.int64(0) }
        return version
    }
}
