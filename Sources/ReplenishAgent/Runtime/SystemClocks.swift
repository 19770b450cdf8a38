import FoundationEssentials
import ReplenishCore

/// Seconds of a `ContinuousClock` duration.
func seconds(of duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
}

/// Real time: wall clock from the system, waiting and intervals on the continuous (monotonic) clock.
/// On Linux `ContinuousClock` is CLOCK_BOOTTIME: it keeps counting while the board is suspended.
public struct SystemClock: AgentClock {
    private static let origin = ContinuousClock.now

    public init() {}

    public func now() -> Date { Date() }

    public func monotonic() -> Double { seconds(of: ContinuousClock.now - Self.origin) }

    public func sleep(for seconds: Double) async throws {
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds)) } else { try Task.checkCancellation() }
    }
}

/// Simulated time running `scale` times faster than the monotonic clock, from `origin`.
/// Its monotonic clock is the scaled time elapsed since it was made.
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

    public func now() -> Date { origin.addingTimeInterval(monotonic()) }

    public func monotonic() -> Double { seconds(of: ContinuousClock.now - start) * scale }

    public func sleep(for seconds: Double) async throws {
        if seconds > 0 { try await Task.sleep(for: .seconds(seconds / scale)) } else { try Task.checkCancellation() }
    }
}

