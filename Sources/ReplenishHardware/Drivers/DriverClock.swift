#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic time and blocking sleeps of bit-banged and polled transfers (microseconds to
/// milliseconds). Not the agent's `AgentClock`: chip timing is physical time even when the demo
/// runs a month in seconds. Injected so tests control every nanosecond.
public struct DriverClock: Sendable {
    /// Nanoseconds on CLOCK_MONOTONIC, the clock libgpiod stamps line events with.
    public var now: @Sendable () -> UInt64
    /// Blocks the calling thread (never a cooperative-pool thread) for the given nanoseconds.
    public var sleep: @Sendable (UInt64) -> Void

    public init(now: @escaping @Sendable () -> UInt64, sleep: @escaping @Sendable (UInt64) -> Void) {
        self.now = now
        self.sleep = sleep
    }

    /// CLOCK_MONOTONIC and nanosleep.
    public static let system = DriverClock(
        now: {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        },
        sleep: { nanoseconds in
            var request = timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
            var remaining = timespec()
            while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
        })
}

extension Double {
    /// Seconds as whole nanoseconds (negative and NaN become 0).
    var nanoseconds: UInt64 { self > 0 ? UInt64((self * 1e9).rounded()) : 0 }
}
