import FoundationEssentials

/// The agent's one source of time. Injected everywhere, so tests and the demo can run a month in seconds.
///
/// Two clocks: the wall clock (`now()`), which can be wrong at boot and can jump when NTP steps it,
/// and the monotonic clock (`monotonic()`, `sleep(for:)`), which never jumps and is the one to
/// measure intervals, timeouts and "a day has passed" with, and to wait on: nothing waits for a
/// wall-clock time, which a step could move.
///
/// Every clock implements all three: there is no fallback from the monotonic clock to the wall
/// clock. The system clocks are in ReplenishAgent (`SystemClock`, `ScaledClock`); tests use
/// `ManualClock` from ReplenishTestSupport.
public protocol AgentClock: Sendable {
    /// The current wall-clock time. Not to be trusted unless a `ClockTrust` says so.
    func now() -> Date
    /// Seconds on a monotonic clock with an arbitrary origin; comparable only within one process.
    func monotonic() -> Double
    /// Suspends for `seconds` of monotonic time, or throws on cancellation.
    func sleep(for seconds: Double) async throws
}
