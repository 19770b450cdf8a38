/// Software debounce over a line's edge events: a new level counts only once it has persisted for
/// the debounce time, judged by the kernel's event timestamps.
///
/// Not a lock-out timer: a glitch shorter than the debounce time is dropped and does not block a
/// real edge that follows it. The price is latency: a level is confirmed by the next edge or by
/// `settle(at:)` once the debounce time has passed.
public struct EdgeDebouncer: Sendable, Equatable {
    /// A confirmed change of the debounced level.
    public enum Transition: Sendable, Equatable {
        case rose
        case fell
    }

    public let debounceNanoseconds: UInt64
    /// The confirmed level; nil until the first edge (or `init(level:)`) tells it.
    public private(set) var level: Bool?
    /// A level seen but not yet held for the debounce time, and since when.
    private var pendingLevel: Bool?
    private var pendingSince: UInt64 = 0

    public init(debounceNanoseconds: UInt64, level: Bool? = nil) {
        self.debounceNanoseconds = debounceNanoseconds
        self.level = level
    }

    /// Feeds one edge; returns the transition that the edge confirmed, if any (the previous
    /// pending level, which held until this edge for at least the debounce time).
    public mutating func feed(_ event: GPIOEdgeEvent) -> Transition? {
        let confirmed = settle(at: event.timestampNanoseconds)
        let newLevel = event.edge == .rising
        // Before the first edge the level is whatever the edge left: a rising edge came from low.
        if level == nil { level = !newLevel }
        if newLevel == level {
            pendingLevel = nil  // back where it was: what was pending was a glitch
        } else if pendingLevel != newLevel {
            pendingLevel = newLevel
            pendingSince = event.timestampNanoseconds
        } else {
            // A repeated edge (the opposite one was lost in the kernel): the line dipped in
            // between, so the level has to persist afresh.
            pendingSince = event.timestampNanoseconds
        }
        if debounceNanoseconds == 0, let immediate = settle(at: event.timestampNanoseconds) {
            return confirmed ?? immediate
        }
        return confirmed
    }

    /// Confirms the pending level if it has held until `now` (same clock as the event timestamps).
    public mutating func settle(at now: UInt64) -> Transition? {
        guard let pending = pendingLevel, now >= pendingSince, now - pendingSince >= debounceNanoseconds else {
            return nil
        }
        pendingLevel = nil
        level = pending
        return pending ? .rose : .fell
    }
}
