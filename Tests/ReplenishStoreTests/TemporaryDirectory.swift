import Foundation
@testable import ReplenishStore

/// A fresh directory for one test, removed when the test's body returns.
func withTemporaryDirectory<T>(_ body: (String) throws -> T) throws -> T {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("replenish-store-tests-\(UUID().uuidString)", isDirectory: true)
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: url) }
    return try body(url.path)
}

/// Runs `body` with a writable store on a new database file in a fresh directory.
func withStore<T>(_ body: (StateStore, String) throws -> T) throws -> T {
    try withTemporaryDirectory { directory in
        let path = directory + "/state.db"
        let store = try StateStore(path: path)
        return try body(store, path)
    }
}

/// The error a test body throws on purpose, to check that `commit` rolls back.
struct DeliberateFailure: Error {}

extension StateStore {
    /// Issues a seq and queues one message with it, in its own transaction.
    @discardableResult
    func enqueueOne(
        topic: String = "replenish/dev/status", kind: MessageKind = .status,
        payload: [UInt8] = [1, 2, 3], createdAt: Double = 1_700_000_000
    ) throws -> UInt64 {
        try commit { transaction in
            let seq = try transaction.nextSeq()
            try transaction.enqueue(seq: seq, topic: topic, kind: kind, payload: payload, createdAt: createdAt)
            return seq
        }
    }
}
