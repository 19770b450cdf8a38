/// What the network thread reports, in the order it happened.
public enum MQTTEvent: Sendable, Equatable {
    /// MQTT 5 reason codes of 0x80 and above report a failure.
    public static func isFailure(reasonCode: UInt8) -> Bool { reasonCode >= 0x80 }

    /// The text libmosquitto gives an MQTT 5 reason code, with the code in hex.
    public static func describe(reasonCode: UInt8) -> String { MosquittoLibrary.describe(reasonCode: reasonCode) }

    /// CONNACK accepted. `connection` is the generation: +1 for each successful connect.
    case connected(connection: UInt64, sessionPresent: Bool)
    /// The connection with that generation ended; its unacknowledged publishes are lost.
    case disconnected(connection: UInt64, reason: String)
    /// The broker acknowledged (PUBACK for QoS 1) the message `messageID` sent on `connection`.
    /// `reasonCode` is the PUBACK's MQTT 5 reason code: 0 (or 0x10, no matching subscribers) for
    /// accepted, 0x80 or above for refused (0x87 not authorized, 0x97 quota exceeded, ...).
    /// Always 0 under MQTT 3.1.1, whose PUBACK cannot refuse.
    case published(connection: UInt64, messageID: Int32, reasonCode: UInt8 = 0)
    /// A message arrived on a subscribed filter; `request` holds its MQTT 5 response topic and
    /// correlation data, if it had any.
    case message(topic: String, payload: [UInt8], retained: Bool, request: MQTTRequestProperties = .init())
}

/// The MQTT 5 request/response properties of a received PUBLISH: where its sender wants the
/// answer, and the bytes to send back with it. Both nil under MQTT 3.1.1.
public struct MQTTRequestProperties: Sendable, Equatable {
    public var responseTopic: String?
    public var correlationData: [UInt8]?

    public init(responseTopic: String? = nil, correlationData: [UInt8]? = nil) {
        self.responseTopic = responseTopic
        self.correlationData = correlationData
    }
}
