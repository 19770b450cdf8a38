import FoundationEssentials
import ReplenishCore
import Synchronization

/// A clock that moves only when told to; for tests.
///
/// It keeps a wall clock and a monotonic clock. `advance` moves both (time passes); `jumpWall` and
/// `setWall` move only the wall clock, as an NTP step or a fake-hwclock restore does.
/// `sleep(until:)` sleepers wake on wall-clock progress, `sleep(for:)` sleepers on monotonic progress.
public final class ManualClock: AgentClock {
    private enum Deadline {
        case wall(Date)
        case monotonic(Double)
    }

    private struct Waiter {
        var deadline: Deadline
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Date
        var monotonic: Double
        var waiters: [UInt64: Waiter] = [:]
        var nextID: UInt64 = 0

        func isDue(_ deadline: Deadline) -> Bool {
            switch deadline {
            case .wall(let date): date <= now
            case .monotonic(let seconds): seconds <= monotonic
            }
        }

        /// Removes and returns the due waiters, in the order they fell due.
        mutating func takeDue() -> [Waiter] {
            let ready = waiters.filter { isDue($0.value.deadline) }
            for key in ready.keys { waiters.removeValue(forKey: key) }
            return ready.sorted { $0.key < $1.key }.map(\.value)
        }
    }

    private let state: Mutex<State>

    /// A clock reading `now` on the wall and `monotonic` seconds on the monotonic clock.
    public init(now: Date, monotonic: Double = 1_000) {
        state = Mutex(State(now: now, monotonic: monotonic))
    }

    public func now() -> Date { state.withLock { $0.now } }

    public func monotonic() -> Double { state.withLock { $0.monotonic } }

    /// How many sleepers are waiting (both kinds); lets tests wait until the code under test is parked.
    public var sleeperCount: Int { state.withLock { $0.waiters.count } }

    /// How much time must pass (`advance(by:)`) until the earliest sleeper wakes; nil without sleepers.
    public var timeUntilNextWake: TimeInterval? {
        state.withLock { s in
            s.waiters.values.map { waiter -> TimeInterval in
                switch waiter.deadline {
                case .wall(let date): max(0, date.timeIntervalSince(s.now))
                case .monotonic(let seconds): max(0, seconds - s.monotonic)
                }
            }.min()
        }
    }

    /// Moves time forward (never back) to wall-clock `date`: both clocks advance by the same amount,
    /// and every sleeper whose deadline has come wakes.
    public func advance(to date: Date) {
        update { s in
            let delta = max(0, date.timeIntervalSince(s.now))
            s.now = s.now.addingTimeInterval(delta)
            s.monotonic += delta
        }
    }

    /// Lets `seconds` of time pass (negative values are ignored): both clocks advance.
    public func advance(by seconds: TimeInterval) {
        update { s in
            let delta = max(0, seconds)
            s.now = s.now.addingTimeInterval(delta)
            s.monotonic += delta
        }
    }

    /// Steps the wall clock by `seconds` (forward or back) without any time passing.
    public func jumpWall(by seconds: TimeInterval) {
        update { $0.now = $0.now.addingTimeInterval(seconds) }
    }

    /// Sets the wall clock to `date` (forward or back) without any time passing.
    public func setWall(_ date: Date) {
        update { $0.now = date }
    }

    private func update(_ change: (inout State) -> Void) {
        let due = state.withLock { s in
            change(&s)
            return s.takeDue()
        }
        for waiter in due { waiter.continuation.resume() }
    }

    public func sleep(until deadline: Date) async throws {
        try await park(.wall(deadline))
    }

    public func sleep(for seconds: Double) async throws {
        let deadline = state.withLock { $0.monotonic } + max(0, seconds)
        try await park(.monotonic(deadline))
    }

    private func park(_ deadline: Deadline) async throws {
        let id: UInt64 = state.withLock { s in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Bool = state.withLock { s in
                    if s.isDue(deadline) || Task.isCancelled { return true }
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

/// A trust the test sets; pairs with `ManualClock`.
public final class ManualClockTrust: ClockTrust {
    private let value: Mutex<Bool>

    public init(_ synchronized: Bool = false) { value = Mutex(synchronized) }

    public func isSynchronized() -> Bool { value.withLock { $0 } }

    public func set(_ synchronized: Bool) { value.withLock { $0 = synchronized } }
}
