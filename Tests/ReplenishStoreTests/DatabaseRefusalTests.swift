import Foundation
import Glibc
import Testing
@testable import ReplenishStore

/// A database that existed must still be one: an empty, damaged or foreign file is refused,
/// untouched, instead of being started afresh (which would reuse seqs the cloud has seen).
@Suite("database refusals")
struct DatabaseRefusalTests {
    /// The file's bytes, or nil when it is missing.
    static func bytes(_ path: String) -> Data? { FileManager.default.contents(atPath: path) }

    /// Opens a writer at `path` and answers the error it refuses with.
    static func refusal(_ path: String, deviceID: String? = nil) -> StoreError? {
        #expect(throws: StoreError.self) { _ = try StateStore(path: path, deviceID: deviceID) }
    }

    @Test("a 0-byte database is refused as empty, by writers and readers, and stays 0 bytes")
    func emptyFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            _ = FileManager.default.createFile(atPath: path, contents: Data())
            let error = Self.refusal(path)
            #expect(error?.code == .empty)
            #expect(error?.message.contains("\(path) exists but is empty (0 bytes)") == true, "\(String(describing: error))")
            let reader = #expect(throws: StoreError.self) { _ = try StateStore(path: path, readOnly: true) }
            #expect(reader?.code == .empty)
            #expect(Self.bytes(path) == Data())
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test("an SQLite file without tables is refused as empty")
    func noTables() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let db = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 100)
                try db.executeScript("CREATE TABLE t (x); DROP TABLE t;", operation: "test setup")
            }
            let before = Self.bytes(path)
            #expect(Self.refusal(path)?.code == .empty)
            #expect(Self.bytes(path) == before)
        }
    }

    @Test("a file of other bytes is refused as damaged, showing its first bytes, and is not changed")
    func garbage() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            let garbage = Data(String(repeating: "not a database ", count: 300).utf8)
            try garbage.write(to: URL(fileURLWithPath: path))
            let error = Self.refusal(path)
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("is not an SQLite database: 4500 bytes starting 6e 6f 74") == true,
                    "\(String(describing: error))")
            #expect(Self.bytes(path) == garbage)
        }
    }

    @Test("a truncated database is refused as damaged")
    func truncated() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let store = try StateStore(path: path)
                for _ in 0..<50 { try store.enqueueOne(payload: [UInt8](repeating: 9, count: 2000)) }
                store.checkpoint()
            }
            let whole = try #require(Self.bytes(path))
            try whole.prefix(whole.count / 2).write(to: URL(fileURLWithPath: path))
            for suffix in ["-wal", "-shm"] { unlink(path + suffix) }
            let error = Self.refusal(path)
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("\(path) is damaged") == true, "\(String(describing: error))")
        }
    }

    @Test("another program's SQLite database is refused as foreign, naming its tables, byte for byte unchanged")
    func foreign() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let db = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 100)
                try db.executeScript("CREATE TABLE users (id, name); INSERT INTO users VALUES (1, 'ada');",
                                     operation: "test setup")
            }
            let before = try #require(Self.bytes(path))
            let error = Self.refusal(path, deviceID: "dev-a")
            #expect(error?.code == .foreign)
            #expect(error?.message.contains("another program (tables: users)") == true, "\(String(describing: error))")
            let reader = #expect(throws: StoreError.self) { _ = try StateStore(path: path, readOnly: true) }
            #expect(reader?.code == .foreign)
            #expect(Self.bytes(path) == before)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        }
    }

    @Test("a missing database beside a leftover write-ahead log is refused, not created")
    func orphanLog() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            try Data(repeating: 1, count: 4096).write(to: URL(fileURLWithPath: path + "-wal"))
            let error = Self.refusal(path)
            #expect(error?.code == .corrupt)
            #expect(error?.message.contains("is missing but its log \(path)-wal is there") == true)
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }

    @Test("a missing database is created whole: a leftover of an interrupted creation does not matter")
    func creationIsWhole() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            _ = FileManager.default.createFile(atPath: path + ".new", contents: Data())
            let store = try StateStore(path: path, deviceID: "dev-a")
            #expect(try DatabaseFile.inspect(path: path)?.deviceID == "dev-a")
            #expect(try store.enqueueOne() == 1)
            #expect(!FileManager.default.fileExists(atPath: path + ".new"))
        }
    }
}

@Suite("device identity")
struct DeviceIdentityTests {
    @Test("the device id is recorded at creation; another one is refused naming both, and the file is unchanged")
    func mismatch() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let store = try StateStore(path: path, deviceID: "dev-a")
                try store.enqueueOne()
                store.checkpoint()
            }
            let before = DatabaseRefusalTests.bytes(path)
            for readOnly in [false, true] {
                let error = #expect(throws: StoreError.self) {
                    _ = try StateStore(path: path, readOnly: readOnly, deviceID: "dev-b")
                }
                #expect(error?.code == .deviceMismatch)
                #expect(error?.message.contains("belongs to device \"dev-a\", but the config's device.id is \"dev-b\"") == true,
                        "\(String(describing: error))")
            }
            #expect(DatabaseRefusalTests.bytes(path) == before)
            let again = try StateStore(path: path, deviceID: "dev-a")
            #expect(try again.loadState().lastSeq == 1)
        }
    }

    @Test("a database from before the device id (schema 1) adopts the first id once, then refuses others")
    func migration() throws {
        try withTemporaryDirectory { directory in
            let path = directory + "/state.db"
            do {
                let db = try SQLiteConnection(path: path, readOnly: false, busyTimeoutMilliseconds: 100)
                try db.executeScript(Schema.migrations[0] + "PRAGMA user_version = 1;", operation: "schema 1")
                try db.execute("UPDATE seq_counter SET last_seq = 41", operation: "test setup")
            }
            // A reader of this build reads it before the daemon migrates it.
            #expect(try StateStore(path: path, readOnly: true).loadState().lastSeq == 41)
            do {
                let store = try StateStore(path: path, deviceID: "dev-a")
                #expect(try DatabaseFile.inspect(path: path)?.deviceID == "dev-a")
                #expect(try store.pragma("user_version") == ["\(Schema.currentVersion)"])
                #expect(try store.enqueueOne() == 42)
            }
            #expect(#expect(throws: StoreError.self) { _ = try StateStore(path: path, deviceID: "dev-b") }?.code
                    == .deviceMismatch)
        }
    }

    @Test("continueSeqs raises the counter for a fresh start and never lowers it")
    func continueSeqs() throws {
        try withStore { store, _ in
            try store.continueSeqs(from: 100)
            #expect(try store.enqueueOne() == 100)
            try store.continueSeqs(from: 5)
            #expect(try store.enqueueOne() == 101)
        }
    }
}
