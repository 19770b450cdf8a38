import Dispatch
import Synchronization

/// Which of the daemon's loops are in the middle of a step, and since when. A loop that sits in
/// one step (a sensor read, a store transaction, handling a transport event) longer than the
/// stall limit is not making progress; an idle loop waiting for work is fine.
public final class LoopLiveness: Sendable {
    /// Loop name -> real monotonic seconds at which its current step began.
    private let steps = Mutex<[String: Double]>([:])

    public init() {}

    /// Real monotonic seconds (not the agent's clock, which may be simulated).
    public static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// `loop` starts a step.
    public func begin(_ loop: String, at now: Double = LoopLiveness.now()) {
        steps.withLock { $0[loop] = now }
    }

    /// `loop` finished its step.
    public func end(_ loop: String) {
        steps.withLock { _ = $0.removeValue(forKey: loop) }
    }

    /// Runs `body` as one step of `loop`.
    public func step<T>(_ loop: String, _ body: () async throws -> T) async rethrows -> T {
        begin(loop)
        defer { end(loop) }
        return try await body()
    }

    /// Loops stuck in one step for more than `limit` seconds, longest first.
    public func stalled(limit: Double, now: Double = LoopLiveness.now()) -> [(loop: String, seconds: Double)] {
        steps.withLock { steps in
            steps.compactMap { loop, since in now - since > limit ? (loop, now - since) : nil }
                .sorted { $0.seconds > $1.seconds }
        }
    }
}
