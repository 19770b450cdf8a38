import ReplenishCore

/// Turns per-sample verdicts and read errors into the slot's health, with hysteresis:
/// one bad sample makes it `degraded`, `faultAfter` bad ones in a row make it `fault`, and
/// `recoverAfter` good ones in a row make it `ok` again. Only entering `fault` and leaving it
/// are transitions, so each fault episode gives exactly one event each way; a slot that was
/// only `degraded` returns to `ok` silently.
public struct SensorHealthTracker: Sendable, Equatable {
    public let faultAfter: Int
    public let recoverAfter: Int
    public private(set) var health: SlotHealth
    /// Bad samples in a row, and good ones in a row; each resets the other.
    public private(set) var consecutiveBad = 0
    public private(set) var consecutiveGood = 0

    /// A slot starts `ok`; counts are clamped to 1.
    public init(faultAfter: Int = 3, recoverAfter: Int = 3) {
        self.faultAfter = max(1, faultAfter)
        self.recoverAfter = max(1, recoverAfter)
        self.health = .ok
    }

    /// Feeds one sample's verdict; `settling` samples count neither way.
    public mutating func record(_ verdict: SampleVerdict) -> HealthTransition? {
        switch verdict {
        case .plausible: return recordGood()
        case .settling: return nil
        case let .implausible(reason): return recordBad(reason)
        }
    }

    /// Feeds a read that failed after the driver's retries; counts as a bad sample.
    public mutating func recordReadError(_ message: String) -> HealthTransition? {
        recordBad(message)
    }

    private mutating func recordBad(_ reason: String) -> HealthTransition? {
        consecutiveGood = 0
        consecutiveBad += 1
        switch health {
        case .fault:
            return nil
        case .ok, .degraded:
            if consecutiveBad >= faultAfter {
                health = .fault
                return .fault(reason: reason)
            }
            health = .degraded
            return nil
        }
    }

    private mutating func recordGood() -> HealthTransition? {
        consecutiveBad = 0
        consecutiveGood += 1
        guard health != .ok, consecutiveGood >= recoverAfter else { return nil }
        let wasFault = health == .fault
        health = .ok
        return wasFault ? .recovered : nil
    }
}
