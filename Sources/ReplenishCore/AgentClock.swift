import Foundation
import Synchronization

/// The agent's one source of time: wall-clock readings and sleeping until a wall-clock instant.
/// Injected everywhere, so tests and the demo can run a month in seconds.
public protocol AgentClock: Sendable {
    /// The current wall-clock time.
    func now() -> Date
    /// Suspends until `deadline` (wall-clock) has been reached, or throws on cancellation.
    func sleep(until deadline: Date) async throws
}

/// Real time: wall clock from the system, waiting on the monotonic clock.
public struct SystemClock: AgentClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSinceNow
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// Simulated time running `scale` times faster than the monotonic clock, from `origin`.
public struct ScaledClock: AgentClock {
    public let origin: Date
    public let scale: Double
    private let start: ContinuousClock.Instant

    public init(origin: Date, scale: Double) {
        precondition(scale > 0, "time scale must be positive")
        self.origin = origin
        self.scale = scale
        self.start = ContinuousClock.now
    }

    public func now() -> Date {
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return origin.addingTimeInterval(seconds * scale)
    }

    public func sleep(until deadline: Date) async throws {
        let seconds = deadline.timeIntervalSince(now()) / scale
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) }
    }
}

/// A clock that moves only when told to; for tests.
public final class ManualClock: AgentClock {
    private struct Waiter {
        var deadline: Date
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0
    }

    private let state: Mutex<State>

    public init(now: Date) {
        state = Mutex(State(now: now))
    }

    public func now() -> Date { state.withLock { $0.now } }

    /// How many sleepers are waiting; lets tests wait until the code under test is parked.
    public var sleeperCount: Int { state.withLock { $0.waiters.count } }

    /// Moves time forward (never back) and wakes every sleeper whose deadline has come.
    public func advance(to date: Date) {
        let due: [Waiter] = state.withLock { s in
            s.now = max(s.now, date)
            let ready = s.waiters.filter { $0.value.deadline <= s.now }
            for key in ready.keys { s.waiters.removeValue(forKey: key) }
            return ready.sorted { $0.value.deadline < $1.value.deadline }.map(\.value)
        }
        for waiter in due { waiter.continuation.resume() }
    }

    public func advance(by seconds: TimeInterval) { advance(to: now().addingTimeInterval(seconds)) }

    public func sleep(until deadline: Date) async throws {
        let id: UInt64 = state.withLock { s in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    if deadline <= s.now || Task.isCancelled { return true }
                    s.waiters[id] = Waiter(deadline: deadline, continuation: continuation)
                    return false
                }
                if resumeNow {
                    if Task.isCancelled { continuation.resume(throwing: CancellationError()) } else { continuation.resume() }
                }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }
}
