/// What the network thread reports, in the order it happened.
public enum MQTTEvent: Sendable, Equatable {
    /// CONNACK accepted. `connection` is the generation: +1 for each successful connect.
    case connected(connection: UInt64, sessionPresent: Bool)
    /// The connection with that generation ended; its unacknowledged publishes are lost.
    case disconnected(connection: UInt64, reason: String)
    /// The broker acknowledged (PUBACK for QoS 1) the message `messageID` sent on `connection`.
    case published(connection: UInt64, messageID: Int32)
    /// A message arrived on a subscribed filter.
    case message(topic: String, payload: [UInt8], retained: Bool)
}
