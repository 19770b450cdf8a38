import CSQLite3

/// The one error type of ReplenishStore: what failed, on which database, and SQLite's own account.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure a caller may want to handle differently.
    public enum Code: Sendable, Equatable {
        /// Another connection held the lock longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
        case busy
        /// The disk or the database's page limit is full (SQLITE_FULL).
        case diskFull
        /// The operating system reported an I/O error (SQLITE_IOERR).
        case ioError
        /// The file is damaged or is not a database (SQLITE_CORRUPT, SQLITE_NOTADB).
        case corrupt
        /// A write was attempted on a read-only store or file (SQLITE_READONLY).
        case readOnly
        /// The file could not be opened or created (SQLITE_CANTOPEN).
        case cannotOpen
        /// A uniqueness or check constraint failed, e.g. a seq enqueued twice (SQLITE_CONSTRAINT).
        case constraint
        /// The file's schema version is not one this build can use.
        case schemaVersion
        /// The file exists but holds nothing: no bytes, or no tables (e.g. after a power cut).
        case empty
        /// The file is an SQLite database of another program, not a replenishd state database.
        case foreign
        /// The database records another device id than the one asked for.
        case deviceMismatch
        /// Another process holds the database's lock file (another daemon runs on it).
        case locked
        /// A value cannot be stored or read back (e.g. a seq above Int64.max, an unknown kind).
        case invalidValue
        /// Any other SQLite failure; see `extendedResultCode`.
        case sqlite
    }

    public var code: Code
    /// Names the operation and the database path, then SQLite's message and extended code.
    public var message: String
    /// SQLite's extended result code, when the failure came from SQLite.
    public var extendedResultCode: Int32?
    /// The text of `sqlite3_errmsg` (or `sqlite3_errstr`) at the time of failure.
    public var sqliteMessage: String?

    public init(code: Code, message: String, extendedResultCode: Int32? = nil, sqliteMessage: String? = nil) {
        self.code = code
        self.message = message
        self.extendedResultCode = extendedResultCode
        self.sqliteMessage = sqliteMessage
    }

    public var description: String { message }

    /// An error for a failed SQLite call; `db` supplies the message when it is still usable.
    init(result: Int32, db: OpaquePointer?, operation: String, path: String) {
        // Only trust sqlite3_errmsg when it refers to this result; otherwise use the generic text.
        let extended = db.map { sqlite3_extended_errcode($0) } ?? result
        let code = extended & 0xFF == result & 0xFF ? extended : result
        let text = (db != nil && code == extended)
            ? String(cString: sqlite3_errmsg(db))
            : String(cString: sqlite3_errstr(code))
        self.init(
            code: Code(sqliteResult: code),
            message: "\(operation) on \(path) failed: \(text) (SQLite extended result code \(code))",
            extendedResultCode: code,
            sqliteMessage: text
        )
    }

    /// An error that did not come from SQLite.
    init(_ code: Code, operation: String, path: String, reason: String) {
        self.init(code: code, message: "\(operation) on \(path) failed: \(reason)")
    }
}

extension StoreError.Code {
    /// Classifies an SQLite (extended) result code by its primary code, the low byte.
    init(sqliteResult: Int32) {
        switch sqliteResult & 0xFF {
        case SQLITE_BUSY, SQLITE_LOCKED: self = .busy
        case SQLITE_FULL: self = .diskFull
        case SQLITE_IOERR: self = .ioError
        case SQLITE_CORRUPT, SQLITE_NOTADB: self = .corrupt
        case SQLITE_READONLY: self = .readOnly
        case SQLITE_CANTOPEN: self = .cannotOpen
        case SQLITE_CONSTRAINT: self = .constraint
        default: self = .sqlite
        }
    }
}
