import FoundationEssentials

/// Something the replenishment policy decided that the cloud should hear about; the agent
/// publishes each one on `{base}/events` with the slot id.
public enum PolicyEvent: Sendable, Equatable {
    /// Device mode: the slot needs a reorder. `reason` is `forecast` (run-out within lead time plus
    /// safety margin) or `lowThreshold` (at or below the threshold for N consecutive readings).
    case replenishRequested(reason: String, runOut: Date?, level: Double?)
    /// An order moved: `state` and `previous` are `none`, `placed`, `shipped`, `cancelled`, `delivered`.
    case orderStateChanged(orderId: String, state: String, previous: String)
    /// The level crossed the low threshold downward (once per crossing, in both modes).
    case lowSupply(level: Double, threshold: Double)
}
