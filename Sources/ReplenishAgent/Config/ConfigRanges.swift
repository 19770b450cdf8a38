// Every duration and size of the agent's own settings, with its range, in one table: a value
// outside its range is a diagnostic at its key, so no later conversion (to Duration, to Int) can
// trap. A driver's keys are ranged by its settings type alone (`problems` in ReplenishHardware),
// which the decoder reports at the key. The README's Configuration section lists the same ranges.

/// The seconds a duration key accepts.
struct DurationRange: Sendable {
    var minimum: Double
    var maximum: Double
    /// The minimum itself is not allowed (`flush_interval: 0` would spin).
    var exclusiveMinimum = false

    func contains(_ seconds: Double) -> Bool {
        (exclusiveMinimum ? seconds > minimum : seconds >= minimum) && seconds <= maximum
    }
}

/// The bytes a size key accepts.
struct SizeRange: Sendable {
    var minimum: Int
    var maximum: Int
}

enum ConfigRanges {
    static let day = 86_400.0

    // mqtt
    /// MQTT's keepalive is a 16-bit count of seconds; below 5 s a slow link looks dead.
    static let keepalive = DurationRange(minimum: 5, maximum: 65_535)
    static let reconnectMin = DurationRange(minimum: 0.01, maximum: 3_600)
    static let reconnectMax = DurationRange(minimum: 0.01, maximum: day)
    static let maxMessageSize = SizeRange(minimum: MQTTSettings.minimumMaxMessageBytes,
                                          maximum: MQTTSettings.maximumMaxMessageBytes)
    static let ackTimeout = DurationRange(minimum: 1, maximum: 3_600)
    /// MQTT 5's session expiry interval is a 32-bit count of seconds (0xFFFFFFFF: never).
    static let sessionExpiry = DurationRange(minimum: 0, maximum: Double(UInt32.max - 1))
    /// MQTT 5's message expiry interval is a 32-bit count of seconds (`report.expire_after`).
    static let messageExpiry = DurationRange(minimum: 1, maximum: Double(UInt32.max))
    /// Messages per second (`max_publish_rate`).
    static let publishRate = 0.1...100_000.0
    // mqtt under `broker: aws-iot` (BrokerProfile): AWS IoT Core's quotas
    /// AWS raises a keepalive below 30 s to 30 and refuses one above 1200 s.
    static let awsIoTKeepalive = DurationRange(minimum: 30, maximum: 1_200)
    /// AWS IoT Core accepts one CONNECT per second per client id.
    static let awsIoTReconnectMin = DurationRange(minimum: 1, maximum: 3_600)
    /// AWS IoT Core's payload limit.
    static let awsIoTMaxMessageSize = SizeRange(minimum: MQTTSettings.minimumMaxMessageBytes, maximum: 128 << 10)
    /// AWS IoT Core keeps a persistent session for at most 7 days.
    static let awsIoTSessionExpiry = DurationRange(minimum: 0, maximum: 7 * day)
    /// AWS IoT Core's publishes per second and connection: the most allowed.
    static let awsIoTPublishRate = 100.0
    /// The default under aws-iot: the drainer's token bucket lets a tenth of a second's tokens
    /// save up, so in any second at most rate + rate/10 go out; 90/s keeps that at 99.
    static let awsIoTDefaultPublishRate = 90.0

    // storage
    static let flushInterval = DurationRange(minimum: 0, maximum: day, exclusiveMinimum: true)
    static let outboxLimit = SizeRange(minimum: 1 << 10, maximum: 1 << 30)

    // report
    static let reportEvery = DurationRange(minimum: 1, maximum: 31 * day)
    static let startupWait = DurationRange(minimum: 0, maximum: 600)

    // slots[].source and its drivers
    static let sampleEvery = DurationRange(minimum: 0.01, maximum: day)

    // slots[].simulation
    static let refillEvery = DurationRange(minimum: 0, maximum: 366 * day, exclusiveMinimum: true)
}
