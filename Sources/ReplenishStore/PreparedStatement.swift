import CSQLite3

/// Owns one `sqlite3_stmt`; prepared once per SQL string and reused for the connection's lifetime.
final class PreparedStatement {
    private let handle: OpaquePointer
    private let path: String

    init(sql: String, db: OpaquePointer, path: String) throws(StoreError) {
        var statement: OpaquePointer?
        // PERSISTENT: these statements live as long as the connection, so SQLite should not
        // take their memory from its short-lived lookaside pool.
        let result = sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard result == SQLITE_OK, let statement else {
            sqlite3_finalize(statement)
            throw StoreError(result: result, db: db, operation: "prepare \"\(sql)\"", path: path)
        }
        self.handle = statement
        self.path = path
    }

    deinit {
        sqlite3_finalize(handle)
    }

    func bind(_ values: [SQLiteValue], operation: String) throws(StoreError) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let result: Int32
            switch value {
            case .integer(let number):
                result = sqlite3_bind_int64(handle, index, number)
            case .real(let number):
                result = sqlite3_bind_double(handle, index, number)
            case .text(let string):
                result = sqlite3_bind_text(handle, index, string, -1, sqliteTransient)
            case .null:
                result = sqlite3_bind_null(handle, index)
            case .blob(let bytes) where bytes.isEmpty:
                // bind_blob with a zero length and no pointer binds NULL, not an empty blob.
                result = sqlite3_bind_zeroblob(handle, index, 0)
            case .blob(let bytes):
                // The 64-bit variant: a length above Int32.max is then SQLITE_TOOBIG, not a trap.
                result = bytes.withUnsafeBytes {
                    sqlite3_bind_blob64(handle, index, $0.baseAddress, UInt64($0.count), sqliteTransient)
                }
            }
            guard result == SQLITE_OK else { throw error(result, operation) }
        }
    }

    /// Advances one row: true when a row is available, false when the statement is done.
    func step(operation: String) throws(StoreError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let result: throw error(result, operation)
        }
    }

    /// Readies the statement for its next use; a statement left mid-result would keep its
    /// read snapshot open and stop WAL checkpoints from completing.
    func reset() {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
    }

    func int64(_ column: Int32) -> Int64 {
        sqlite3_column_int64(handle, column)
    }

    /// A seq or seq counter; a negative value can only come from a damaged or hand-edited file.
    func seq(_ column: Int32, operation: String) throws(StoreError) -> UInt64 {
        let value = sqlite3_column_int64(handle, column)
        guard let seq = UInt64(exactly: value) else {
            throw StoreError(.invalidValue, operation: operation, path: path, reason: "negative seq \(value) in the database")
        }
        return seq
    }

    func double(_ column: Int32) -> Double {
        sqlite3_column_double(handle, column)
    }

    func isNull(_ column: Int32) -> Bool {
        sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    func text(_ column: Int32) -> String {
        guard let characters = sqlite3_column_text(handle, column) else { return "" }
        return String(cString: characters)
    }

    func blob(_ column: Int32) -> [UInt8] {
        // Ask for the pointer before the length, as SQLite documents; an empty blob has no pointer.
        guard let bytes = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: bytes, count: count))
    }

    private func error(_ result: Int32, _ operation: String) -> StoreError {
        StoreError(result: result, db: sqlite3_db_handle(handle), operation: operation, path: path)
    }
}

/// SQLITE_TRANSIENT is a macro Swift cannot import: it tells SQLite to copy the bound bytes now.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
