import CSQLite3
import Testing
@testable import ReplenishStore
import ReplenishTestSupport

@Suite("errors")
struct StoreErrorTests {
    // Extended codes are function-like macros in sqlite3.h, which Swift does not import.
    @Test("SQLite result codes map to the store's error codes", arguments: [
        (SQLITE_BUSY, StoreError.Code.busy),
        (SQLITE_BUSY | 2 << 8, .busy),  // SQLITE_BUSY_SNAPSHOT
        (SQLITE_LOCKED, .busy),
        (SQLITE_FULL, .diskFull),
        (SQLITE_IOERR, .ioError),
        (SQLITE_IOERR | 4 << 8, .ioError),  // SQLITE_IOERR_FSYNC
        (SQLITE_CORRUPT, .corrupt),
        (SQLITE_NOTADB, .corrupt),
        (SQLITE_READONLY, .readOnly),
        (SQLITE_CANTOPEN, .cannotOpen),
        (SQLITE_CONSTRAINT | 6 << 8, .constraint),  // SQLITE_CONSTRAINT_PRIMARYKEY
        (SQLITE_ERROR, .sqlite),
    ])
    func codeMapping(result: Int32, code: StoreError.Code) {
        #expect(StoreError.Code(sqliteResult: result) == code)
        let error = StoreError(result: result, db: nil, operation: "flush", path: "/var/lib/replenishd/state.db")
        #expect(error.code == code)
        #expect(error.extendedResultCode == result)
        #expect(error.message.contains("flush on /var/lib/replenishd/state.db"))
    }

    @Test("a full database fails the commit with diskFull, keeps nothing of it, and the store stays usable")
    func diskFull() throws {
        try withStore { store, path in
            try store.enqueueOne()
            let pages = try #require(try store.pragma("page_count").first)
            _ = try store.pragma("max_page_count = \(pages)")  // simulate a full disk

            let error = #expect(throws: StoreError.self) {
                try store.enqueueOne(payload: [UInt8](repeating: 7, count: 64 * 1024))
            }
            #expect(error?.code == .diskFull)
            #expect(error?.extendedResultCode.map { $0 & 0xFF } == SQLITE_FULL)
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("enqueue") == true)
            #expect(try store.pending(limit: 10).map(\.seq) == [1])

            _ = try store.pragma("max_page_count = 1000000")
            #expect(try store.enqueueOne(payload: [UInt8](repeating: 7, count: 64 * 1024)) == 2)
            #expect(try SQLiteFile.integrityCheck(path: store.path) == "ok")
        }
    }

    @Test("a write lock held by another connection fails with busy after the timeout")
    func busy() throws {
        try withStore { store, path in
            let other = try StateStore(path: path, busyTimeoutMilliseconds: 50)
            let error = try store.commit { _ in
                #expect(throws: StoreError.self) { try other.enqueueOne() }
            }
            #expect(error?.code == .busy)
            #expect(error?.message.contains(path) == true)
            #expect(try other.enqueueOne() == 1)
        }
    }
}
