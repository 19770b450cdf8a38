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
        // 2: the device the database belongs to, so another device's config cannot adopt it.
        // Written once; a database from before this version adopts the first device that opens it.
        """
        CREATE TABLE device_identity (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            device_id TEXT NOT NULL
        );
        """,
        // 3: outbox messages the broker refused for good (MQTT 5 PUBACK reason codes), kept for
        // inspection and bounded (`StateStore.deadLetter`).
        """
        CREATE TABLE dead_letter (
            seq INTEGER PRIMARY KEY CHECK (seq > 0),
            topic TEXT NOT NULL,
            kind TEXT NOT NULL,
            payload BLOB NOT NULL,
            created_at REAL NOT NULL,
            moved_at REAL NOT NULL,
            reason TEXT NOT NULL
        );
        """,
        // 4: the MQTT 5 correlation data of a reply sent to a command's response topic (NULL for
        // every other message).
        """
        ALTER TABLE outbox ADD COLUMN correlation_data BLOB;
        ALTER TABLE dead_letter ADD COLUMN correlation_data BLOB;
        """,
    ]

    /// The tables every version since 1 has: without them a file is not a replenishd database.
    static let requiredTables: Set<String> = ["seq_counter", "slot_state", "agent_value", "outbox"]

    /// The first version that records the device id.
    static let deviceIdentityVersion: Int64 = 2

    static var currentVersion: Int64 { Int64(migrations.count) }

    /// Brings a writable database up to `currentVersion` in one transaction and, with `deviceID`,
    /// records it when none is, or refuses (`.deviceMismatch`) when another one is.
    static func migrate(_ db: SQLiteConnection, deviceID: String? = nil) throws(StoreError) {
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
            if let deviceID {
                try db.execute(
                    "INSERT INTO device_identity (id, device_id) VALUES (1, ?1) ON CONFLICT (id) DO NOTHING",
                    [.text(deviceID)], operation: "record device id")
                try requireDevice(deviceID, recorded: recordedDevice(db), path: db.path)
            }
            try db.execute("COMMIT", operation: "commit schema migration")
        } catch {
            db.rollbackIfActive()
            throw error
        }
    }

    /// Checks, without writing, that a database opened read-only has a layout this build reads:
    /// the current one or an older one the daemon has not migrated yet (versions only add tables,
    /// and columns of outbox rows, which a reader does not select).
    static func requireReadable(_ db: SQLiteConnection) throws(StoreError) {
        let found = try version(db)
        guard (1...currentVersion).contains(found) else {
            throw StoreError(
                .schemaVersion, operation: "open read-only", path: db.path,
                reason: "schema version \(found), this build reads versions 1 to \(currentVersion)")
        }
    }

    /// The device id the database records; nil before schema version 2 or before one was recorded.
    static func recordedDevice(_ db: SQLiteConnection) throws(StoreError) -> String? {
        guard try version(db) >= deviceIdentityVersion else { return nil }
        var recorded: String?
        try db.query("SELECT device_id FROM device_identity WHERE id = 1", operation: "read device id") {
            recorded = $0.text(0)
        }
        return recorded
    }

    /// Refuses a database recorded for another device than `deviceID`.
    static func requireDevice(_ deviceID: String, recorded: String?, path: String) throws(StoreError) {
        guard let recorded, recorded != deviceID else { return }
        throw StoreError(
            code: .deviceMismatch,
            message: "the state database \(path) belongs to device \"\(recorded)\", but the config's device.id is "
                + "\"\(deviceID)\": one database per device; use device \"\(recorded)\"'s config or another "
                + "storage.path (the database was not modified)")
    }

    static func version(_ db: SQLiteConnection) throws(StoreError) -> Int64 {
        var version: Int64 = 0
        try db.query("PRAGMA user_version", operation: "read schema version") { version = $0.int64(0) }
        return version
    }
}
