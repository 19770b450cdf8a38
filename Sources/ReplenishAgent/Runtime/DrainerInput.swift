import ReplenishMQTT

/// What the drainer reacts to.
enum DrainerInput: Sendable {
    case transport(MQTTEvent)
    /// Rows were added to the outbox.
    case outboxChanged
    /// The drainer's own timer: a token is due (`max_publish_rate`) or a PUBACK overdue (`ack_timeout`).
    case timer
    /// The device's state (`{base}/state`) changed: published now when connected, and on every connect.
    case state([UInt8])
}

/// Delivery counters, readable from any thread (status, demo, tests).
public struct DeliveryStats: Sendable, Equatable {
    public var connected = false
    /// A clean stop is under way: the coming disconnect is expected.
    public var stopping = false
    public var delivered: UInt64 = 0
    /// Outbox rows handed to the client (every connection; a republished row counts again).
    public var published: UInt64 = 0
    /// Reconnects because a PUBACK did not come within `ack_timeout`.
    public var ackTimeouts: UInt64 = 0
    /// MQTT 5 PUBACKs with a failure reason (0x80 and above): the row stayed in the outbox.
    public var refused: UInt64 = 0
    /// Rows moved to the dead-letter table after `OutboxDrainer.deadLetterAfter` refusals.
    public var deadLettered: UInt64 = 0
    public var lastAcknowledgedSeq: UInt64 = 0
}
