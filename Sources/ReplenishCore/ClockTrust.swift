/// Whether the wall clock can be trusted right now: synchronized (NTP, PTP, GPS…) or kept by an RTC.
///
/// Until it is, wall-clock dates are not used to close days or to date forecasts, and messages
/// carry `"clock": "unsynchronized"`.
public protocol ClockTrust: Sendable {
    func isSynchronized() -> Bool
}

extension ClockTrust {
    /// The `clock` field of the messages built now.
    public var status: ClockStatus { ClockStatus(synchronized: isSynchronized()) }
}

extension ClockStatus {
    public init(synchronized: Bool) { self = synchronized ? .synchronized : .unsynchronized }
}

/// A trust that never changes: `FixedClockTrust(true)` for a board whose config declares an RTC
/// (`device.has_rtc`), `FixedClockTrust(false)` for a clock that is never to be believed.
public struct FixedClockTrust: ClockTrust {
    public let synchronized: Bool

    public init(_ synchronized: Bool) { self.synchronized = synchronized }

    public func isSynchronized() -> Bool { synchronized }
}
