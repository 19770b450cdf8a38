import Dispatch

/// A dedicated serial thread for blocking C calls (SQLite steps and fsyncs), so they never
/// occupy a thread of Swift's cooperative pool.
final class BlockingQueue: Sendable {
    private let queue: DispatchQueue

    init(label: String) {
        queue = DispatchQueue(label: label)
    }

    /// Runs `work` on the queue and resumes with its result. Not cancellable on purpose: a
    /// transaction that started is allowed to finish.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            queue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// Runs one blocking call (a client's orderly stop that waits for its network thread) on a
    /// thread of its own and resumes with its result, so a wait of seconds never holds one of the
    /// cooperative pool's threads: on a one- or two-core board that is the whole pool.
    static func offPool<T: Sendable>(_ label: String, _ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: label).async { continuation.resume(returning: work()) }
        }
    }
}
