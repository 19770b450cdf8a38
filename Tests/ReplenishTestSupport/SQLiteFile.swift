import CSQLite3

/// A database file read through SQLite's C API on a read-only connection of its own, not through
/// the store: for tests that check what the file holds (integrity, the recorded device id).
public enum SQLiteFile {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// The first column of every row `sql` returns, as text.
    public static func column(_ sql: String, path: String) throws -> [String] {
        var db: OpaquePointer?
        defer { sqlite3_close_v2(db) }
        guard sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, nil) == SQLITE_OK else {
            throw Failure(description: "open \(path): \(String(cString: sqlite3_errmsg(db)))")
        }
        sqlite3_busy_timeout(db, 5000)
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK else {
            throw Failure(description: "\(sql) on \(path): \(String(cString: sqlite3_errmsg(db)))")
        }
        var rows: [String] = []
        while true {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: rows.append(sqlite3_column_text(statement, 0).map { String(cString: $0) } ?? "")
            case SQLITE_DONE: return rows
            default: throw Failure(description: "\(sql) on \(path): \(String(cString: sqlite3_errmsg(db)))")
            }
        }
    }

    /// `PRAGMA integrity_check`: "ok", or SQLite's problems one per line.
    public static func integrityCheck(path: String) throws -> String {
        try column("PRAGMA integrity_check", path: path).joined(separator: "\n")
    }
}
