import CSQLite3

/// Owns one `sqlite3` handle and the statements prepared on it. Not thread-safe: `StateStore`
/// serializes every use behind its mutex.
final class SQLiteConnection {
    let path: String
    private let handle: OpaquePointer
    private var statements: [String: PreparedStatement] = [:]

    init(path: String, readOnly: Bool, busyTimeoutMilliseconds: Int32) throws(StoreError) {
        // NOMUTEX: the store's own mutex already serializes access, so SQLite's would be redundant.
        // EXRESCODE: extended result codes from the open call too, not only from later calls.
        var flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE
        flags |= readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        var db: OpaquePointer?
        let result = sqlite3_open_v2(path, &db, flags, nil)
        guard result == SQLITE_OK, let db else {
            let error = StoreError(result: result, db: db, operation: "open", path: path)
            sqlite3_close_v2(db)  // open may hand back a handle even when it fails
            throw error
        }
        self.handle = db
        self.path = path
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, busyTimeoutMilliseconds)
    }

    deinit {
        // Statements must be finalized before the handle is closed, or close fails with SQLITE_BUSY.
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    /// True while a transaction is open; SQLite ends one by itself after some errors (e.g. SQLITE_FULL).
    var inTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    /// Runs a statement that returns no rows and answers how many rows it changed.
    @discardableResult
    func execute(_ sql: String, _ values: [SQLiteValue] = [], operation: String) throws(StoreError) -> Int {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(values, operation: operation)
        while try statement.step(operation: operation) {}
        return Int(sqlite3_changes64(handle))
    }

    /// Runs a query and hands each row to `row`; the statement is valid only inside it.
    func query(
        _ sql: String, _ values: [SQLiteValue] = [], operation: String,
        row: (PreparedStatement) throws(StoreError) -> Void
    ) throws(StoreError) {
        let statement = try prepared(sql)
        defer { statement.reset() }
        try statement.bind(values, operation: operation)
        while try statement.step(operation: operation) {
            try row(statement)
        }
    }

    /// Runs several statements once, uncached; for schema migrations.
    func executeScript(_ sql: String, operation: String) throws(StoreError) {
        let result = sqlite3_exec(handle, sql, nil, nil, nil)
        guard result == SQLITE_OK else { throw error(result, operation) }
    }

    /// Ends the open transaction, if any, without reporting a failure: it runs only while an
    /// earlier error is already on its way to the caller.
    func rollbackIfActive() {
        guard inTransaction else { return }
        _ = try? execute("ROLLBACK", operation: "rollback")
    }

    private func prepared(_ sql: String) throws(StoreError) -> PreparedStatement {
        if let statement = statements[sql] { return statement }
        let statement = try PreparedStatement(sql: sql, db: handle, path: path)
        statements[sql] = statement
        return statement
    }

    private func error(_ result: Int32, _ operation: String) -> StoreError {
        StoreError(result: result, db: handle, operation: operation, path: path)
    }
}
