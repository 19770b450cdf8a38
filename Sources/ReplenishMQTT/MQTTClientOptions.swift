/// The last will: published by the broker when the client's connection ends without a DISCONNECT.
public struct MQTTWill: Sendable, Equatable {
    public var topic: String
    public var payload: [UInt8]
    public var qos: Int32
    public var retain: Bool

    public init(topic: String, payload: [UInt8], qos: Int32 = 1, retain: Bool = true) {
        self.topic = topic
        self.payload = payload
        self.qos = qos
        self.retain = retain
    }
}

/// The MQTT protocol version spoken to the broker.
public enum MQTTProtocolVersion: String, Sendable, CaseIterable {
    /// MQTT 5: reason codes on CONNACK, PUBACK, SUBACK and DISCONNECT, session expiry, properties.
    case v5 = "5"
    case v311 = "3.1.1"
}

/// How `MQTTClient` connects and reconnects.
public struct MQTTClientOptions: Sendable {
    public var host: String
    public var port: Int
    public var clientID: String
    public var keepAliveSeconds: Int = 60
    public var cleanSession: Bool = true
    public var username: String? = nil
    /// Never logged.
    public var password: String? = nil
    public var will: MQTTWill? = nil
    /// Seconds; the shortest wait before a reconnect.
    public var reconnectDelayMin: Double = 0.5
    /// Seconds; exponential backoff with full jitter between min and max.
    public var reconnectDelayMax: Double = 30
    /// QoS 1/2 messages libmosquitto keeps in flight at once; more are queued inside the handle
    /// (and dropped with it when the connection ends: the outbox republishes them).
    public var maxInflight: Int = 32
    /// TLS settings; nil means plaintext MQTT.
    public var tls: MQTTTLSOptions? = nil
    /// How to stop sending retained messages (the daemon names its config key): added to the log
    /// line when the broker closes a connection while a retained will or publish is in play, as a
    /// broker that does not take retained messages does.
    public var retainRefusalFix: String? = nil
    /// MQTT 3.1.1 unless set: the library's callers opt in to MQTT 5.
    public var protocolVersion: MQTTProtocolVersion = .v311
    /// MQTT 5 only: how long the broker keeps the session (subscriptions, queued QoS 1 messages)
    /// after the connection ends, in seconds (the CONNECT's session expiry interval). Nil sends
    /// none, which MQTT 5 takes as 0: the session ends with the connection.
    public var sessionExpirySeconds: UInt32? = nil

    public init(
        host: String,
        port: Int,
        clientID: String,
        keepAliveSeconds: Int = 60,
        cleanSession: Bool = true,
        username: String? = nil,
        password: String? = nil,
        will: MQTTWill? = nil,
        reconnectDelayMin: Double = 0.5,
        reconnectDelayMax: Double = 30,
        maxInflight: Int = 32,
        tls: MQTTTLSOptions? = nil
    ) {
        self.host = host
        self.port = port
        self.clientID = clientID
        self.keepAliveSeconds = keepAliveSeconds
        self.cleanSession = cleanSession
        self.username = username
        self.password = password
        self.will = will
        self.reconnectDelayMin = reconnectDelayMin
        self.reconnectDelayMax = reconnectDelayMax
        self.maxInflight = maxInflight
        self.tls = tls
    }
}

extension MQTTClientOptions: CustomStringConvertible {
    /// Safe to log: the password is never shown.
    public var description: String {
        "MQTTClientOptions(host: \(host), port: \(port), clientID: \(clientID), keepAlive: \(keepAliveSeconds)s, "
            + "cleanSession: \(cleanSession), username: \(username ?? "-"), password: \(password == nil ? "-" : "<redacted>"), "
            + "will: \(will?.topic ?? "-"), reconnect: \(reconnectDelayMin)...\(reconnectDelayMax)s, maxInflight: \(maxInflight), "
            + "tls: \(tls.map { "\($0)" } ?? "-"), protocol: \(protocolVersion.rawValue), "
            + "sessionExpiry: \(sessionExpirySeconds.map { "\($0)s" } ?? "-"))"
    }
}

/// MQTT 5 properties of one PUBLISH; ignored under MQTT 3.1.1, which has none.
public struct MQTTPublishProperties: Sendable {
    /// User properties, in order.
    public var userProperties: [(name: String, value: String)]
    /// The message expiry interval: the broker drops the message when it could not deliver it to
    /// a subscriber within this many seconds.
    public var messageExpirySeconds: UInt32?
    /// The correlation data of the request this message answers (at most 65,535 bytes).
    public var correlationData: [UInt8]?

    public init(userProperties: [(name: String, value: String)] = [], messageExpirySeconds: UInt32? = nil,
                correlationData: [UInt8]? = nil) {
        self.userProperties = userProperties
        self.messageExpirySeconds = messageExpirySeconds
        self.correlationData = correlationData
    }

    public var isEmpty: Bool { userProperties.isEmpty && messageExpirySeconds == nil && correlationData == nil }
}
