import CSQLite3
#if canImport(Glibc)
import Glibc
#endif

/// The one error type of ReplenishStore: what failed, on which database, and SQLite's own account.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The kinds of failure a caller may want to handle differently, as an open set: new codes
    /// can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// Another connection held the lock longer than the busy timeout (SQLITE_BUSY, SQLITE_LOCKED).
        public static let busy = Code(name: "busy")
        /// The disk or the database's page limit is full (SQLITE_FULL).
        public static let diskFull = Code(name: "diskFull")
        /// The operating system reported an I/O error (SQLITE_IOERR).
        public static let ioError = Code(name: "ioError")
        /// The file is damaged or is not a database (SQLITE_CORRUPT, SQLITE_NOTADB).
        public static let corrupt = Code(name: "corrupt")
        /// A write was attempted on a read-only store or file (SQLITE_READONLY).
        public static let readOnly = Code(name: "readOnly")
        /// The file could not be opened or created (SQLITE_CANTOPEN).
        public static let cannotOpen = Code(name: "cannotOpen")
        /// A uniqueness or check constraint failed, e.g. a seq enqueued twice (SQLITE_CONSTRAINT).
        public static let constraint = Code(name: "constraint")
        /// The file's schema version is not one this build can use.
        public static let schemaVersion = Code(name: "schemaVersion")
        /// The file exists but holds nothing: no bytes, or no tables (e.g. after a power cut).
        public static let empty = Code(name: "empty")
        /// The file is an SQLite database of another program, not a replenishd state database.
        public static let foreign = Code(name: "foreign")
        /// The database records another device id than the one asked for.
        public static let deviceMismatch = Code(name: "deviceMismatch")
        /// Another process holds the database's lock file (another daemon runs on it).
        public static let locked = Code(name: "locked")
        /// A value cannot be stored or read back (e.g. a seq above Int64.max, an unknown kind).
        public static let invalidValue = Code(name: "invalidValue")
        /// Any other SQLite failure; see `extendedResultCode`.
        public static let sqlite = Code(name: "sqlite")
        /// A message larger than `mqtt.max_message_size`: refused before it is queued.
        public static let oversized = Code(name: "oversized")
        public var description: String { name }
    }

    public var code: Code
    /// Names the operation and the database path, then SQLite's message and extended code.
    public var message: String
    /// SQLite's extended result code, when the failure came from SQLite.
    public var extendedResultCode: Int32?
    /// The text of `sqlite3_errmsg` (or `sqlite3_errstr`) at the time of failure.
    public var sqliteMessage: String?
    /// The errno behind the error, when a system call (open, stat, flock, rename) failed.
    public var errno: Int32?

    public init(code: Code, message: String, extendedResultCode: Int32? = nil, sqliteMessage: String? = nil,
                errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.extendedResultCode = extendedResultCode
        self.sqliteMessage = sqliteMessage
        self.errno = errno
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

    /// An error for a failed system call, `errno`'s text the reason.
    init(_ code: Code, operation: String, path: String, errno: Int32) {
        self.init(code: code, message: "\(operation) on \(path) failed: \(String(cString: strerror(errno)))", errno: errno)
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

extension StoreError {
    /// A message for `topic` of `bytes` bytes, larger than `mqtt.max_message_size` (`maxBytes`).
    static func oversized(topic: String, bytes: Int, maxBytes: Int) -> StoreError {
        StoreError(code: .oversized,
                   message: "a message for \(topic) of \(bytes) bytes exceeds mqtt.max_message_size (\(maxBytes))")
    }
}
