/// What was persisted, read at start-up.
public struct StoredState: Sendable, Equatable {
    /// The last seq issued; 0 when none ever was.
    public var lastSeq: UInt64
    /// Slot id to opaque ledger state.
    public var slots: [String: [UInt8]]
    /// Other agent state by key (e.g. "schedule").
    public var values: [String: [UInt8]]

    public init(lastSeq: UInt64, slots: [String: [UInt8]], values: [String: [UInt8]]) {
        self.lastSeq = lastSeq
        self.slots = slots
        self.values = values
    }
}
