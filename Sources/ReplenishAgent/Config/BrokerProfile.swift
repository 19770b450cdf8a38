import ReplenishCore

// `mqtt.broker`: which broker's limits the names, durations and sizes of the `mqtt` section are
// held to. The ranges themselves are in ConfigRanges; the README's Configuration section lists them.

/// What one broker profile allows.
struct BrokerLimits: Sendable {
    /// How diagnostics name the limit's owner.
    var owner: String
    /// Bytes of the longest topic we publish or subscribe to: the base topic and `TopicRules.longestSuffix`.
    var topicBytes: Int
    /// Slashes in that topic; nil for no limit.
    var topicSlashes: Int?
    var clientIDBytes: Int
    var keepalive: DurationRange
    var reconnectMin: DurationRange
    var maxMessageSize: SizeRange
    /// The most `max_publish_rate` may be; nil for no limit.
    var maxPublishRate: Double?
    /// `max_publish_rate` when the key is absent; nil for no limit.
    var defaultPublishRate: Double?
    var sessionExpiry: DurationRange
}

extension MQTTSettings.Broker {
    /// `aws-iot` for an AWS IoT Core data endpoint (`<prefix>-ats.iot.<region>.amazonaws.com`), else `generic`.
    static func detected(host: String) -> Self {
        let labels = host.lowercased().split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 5, labels.allSatisfy({ !$0.isEmpty }), labels.suffix(2).elementsEqual(["amazonaws", "com"]),
              labels[labels.count - 4] == "iot"
        else { return .generic }
        return .awsIoT
    }

    var limits: BrokerLimits {
        switch self {
        case .generic:
            // MQTT's strings are 16-bit length prefixed.
            BrokerLimits(owner: "MQTT", topicBytes: 65_535, topicSlashes: nil, clientIDBytes: 65_535,
                         keepalive: ConfigRanges.keepalive, reconnectMin: ConfigRanges.reconnectMin,
                         maxMessageSize: ConfigRanges.maxMessageSize, maxPublishRate: nil, defaultPublishRate: nil,
                         sessionExpiry: ConfigRanges.sessionExpiry)
        case .awsIoT:
            BrokerLimits(owner: "AWS IoT Core (mqtt.broker: aws-iot)", topicBytes: 256, topicSlashes: 7,
                         clientIDBytes: 128, keepalive: ConfigRanges.awsIoTKeepalive,
                         reconnectMin: ConfigRanges.awsIoTReconnectMin, maxMessageSize: ConfigRanges.awsIoTMaxMessageSize,
                         maxPublishRate: ConfigRanges.awsIoTPublishRate,
                         defaultPublishRate: ConfigRanges.awsIoTDefaultPublishRate,
                         sessionExpiry: ConfigRanges.awsIoTSessionExpiry)
        }
    }
}

extension TopicRules {
    /// The levels below the base topic that the daemon publishes or subscribes to; the broker sees
    /// the base topic with each of them.
    static var suffixes: [String] {
        ["status", "events", "replies", "availability", "state", "commands/+"]
            + CommandName.allCases.map { "commands/\($0.rawValue)" }
    }

    /// The longest of `suffixes` in bytes (slashes count the same in all of them but one).
    static var longestSuffix: String { suffixes.max { $0.utf8.count < $1.utf8.count } ?? "" }

    /// Why a command's MQTT 5 response topic cannot take its reply, or nil: a topic we may publish
    /// to under `limits` (no wildcards, not `$...`, no empty topic, control or format characters).
    static func responseTopicProblem(_ topic: String, limits: BrokerLimits) -> String? {
        if let problem = publishTopicProblem(topic, what: "a response topic") { return problem }
        if topic.utf8.count > limits.topicBytes {
            return "\(limits.owner) takes topics of at most \(limits.topicBytes) bytes, got \(topic.utf8.count)"
        }
        let slashes = topic.utf8.count { $0 == UInt8(ascii: "/") }
        if let most = limits.topicSlashes, slashes > most {
            return "\(limits.owner) takes topics of at most \(most) slashes, got \(slashes)"
        }
        return nil
    }

    /// Why the topics under `base` break `limits`, or nil.
    static func topicProblem(base: String, limits: BrokerLimits) -> String? {
        let suffix = "/" + longestSuffix
        let topic = base + suffix
        if topic.utf8.count > limits.topicBytes {
            return "\(limits.owner) takes topics of at most \(limits.topicBytes) bytes, and the base topic with "
                + "'\(suffix)' has \(topic.utf8.count)"
        }
        let slashes = topic.utf8.count { $0 == UInt8(ascii: "/") }
        if let most = limits.topicSlashes, slashes > most {
            return "\(limits.owner) takes topics of at most \(most) slashes, and '\(topic)' has \(slashes)"
        }
        return nil
    }
}
