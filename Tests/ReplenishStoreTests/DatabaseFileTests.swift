import Foundation
import Testing
@testable import ReplenishStore
import ReplenishTestSupport

@Suite("database file")
struct DatabaseFileTests {
    @Test("the database is in WAL mode with synchronous FULL, at the current schema version, and passes integrity_check")
    func pragmas() throws {
        try withStore { store, _ in
            try store.enqueueOne()
            #expect(try store.pragma("journal_mode") == ["wal"])
            #expect(try store.pragma("synchronous") == ["2"])  // FULL
            // A small log: checkpointed every 64 pages, cut back to the 256 KiB disk reserve.
            #expect(try store.pragma("wal_autocheckpoint") == ["64"])
            #expect(try store.pragma("journal_size_limit") == ["262144"])
            #expect(try store.pragma("user_version") == ["\(Schema.currentVersion)"])
            #expect(try SQLiteFile.integrityCheck(path: store.path) == "ok")
        }
    }

    @Test("a read-only store reads while a writer has the file open, and refuses writes")
    func readOnlyBesideWriter() throws {
        try withStore { writer, path in
            try writer.enqueueOne()
            try writer.commit { transaction in try transaction.setSlotState("coffee", [1]) }

            let reader = try StateStore(path: path, readOnly: true)
            #expect(reader.isReadOnly)
            #expect(try reader.loadState() == StoredState(lastSeq: 1, slots: ["coffee": [1]], values: [:]))

            try writer.enqueueOne()
            #expect(try reader.pending(limit: 10).map(\.seq) == [1, 2])
            #expect(try reader.outboxStats().count == 2)
            #expect(try SQLiteFile.integrityCheck(path: reader.path) == "ok")

            let refusedCommit = #expect(throws: StoreError.self) {
                try reader.commit { transaction in try transaction.setValue("x", [1]) }
            }
            #expect(refusedCommit?.code == .readOnly)
            #expect(refusedCommit?.message.contains(path) == true)
            #expect(refusedCommit?.message.contains("commit") == true)

            let refusedAcknowledge = #expect(throws: StoreError.self) { try reader.acknowledge(seqs: [1]) }
            #expect(refusedAcknowledge?.code == .readOnly)
            #expect(try writer.pending(limit: 10).count == 2)
        }
    }

    @Test("a read-only store opens a database no writer has open")
    func readOnlyAlone() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do { try StateStore(path: path).enqueueOne() }
            #expect(try StateStore(path: path, readOnly: true).loadState().lastSeq == 1)
        }
    }

    @Test("a read-only open of a missing file fails and creates nothing")
    func readOnlyMissingFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            let error = #expect(throws: StoreError.self) { try StateStore(path: path, readOnly: true) }
            #expect(error?.code == .cannotOpen)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("opening in a directory that does not exist fails with the path in the message", arguments: [false, true])
    func missingDirectory(readOnly: Bool) throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/no-such-directory/state.db"
            let error = #expect(throws: StoreError.self) { try StateStore(path: path, readOnly: readOnly) }
            #expect(error?.code == .cannotOpen)
            #expect(error?.message.contains(path) == true)
            #expect(error?.message.contains("open") == true)
            // The lock file (writer) or the check before SQLite (reader) finds it missing first.
            #expect(error?.message.contains("No such file or directory") == true || error?.message.contains("no such file") == true)
            // The writer's failure is the lock file's open(2), whose errno the error keeps.
            if !readOnly { #expect(error?.errno == ENOENT) }
        }
    }

    @Test("a file that is not a database is reported as corrupt")
    func notADatabase() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: StoreError.self) { try StateStore(path: path) }
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains(path) == true)
        }
    }

    @Test("a schema newer than this build is refused, by writers and readers")
    func newerSchema() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do { _ = try StateStore(path: path) }
            do {
                let db = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 100)
                try db.execute("PRAGMA user_version = \(Schema.currentVersion + 1)", operation: "test setup")
            }
            for readOnly in [false, true] {
                let error = #expect(throws: StoreError.self) { try StateStore(path: path, readOnly: readOnly) }
                #expect(error?.code == .schemaVersion)
                #expect(error?.message.contains(path) == true)
            }
        }
    }
}

@Suite("room inside the database")
struct ReusableBytesTests {
    @Test("evicted reports leave free pages that reusableBytes counts, and new reports reuse them")
    func freePages() throws {
        try withStore { store, _ in
            for _ in 0..<40 { _ = try store.enqueueOne(payload: [UInt8](repeating: 7, count: 3000)) }
            store.checkpoint()
            #expect(store.reusableBytes == 0)
            let evicted = try store.commit { tx in try tx.evictOldest(kind: .status, toFitBytes: 0) }
            #expect(evicted.count == 40)
            store.checkpoint()
            let free = store.reusableBytes
            #expect(free >= 30 * 3000)  // about a page per report
            for _ in 0..<10 { _ = try store.enqueueOne(payload: [UInt8](repeating: 7, count: 3000)) }
            store.checkpoint()
            #expect(store.reusableBytes < free)
        }
    }
}
