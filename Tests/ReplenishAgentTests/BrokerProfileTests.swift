@testable import ReplenishAgent
import Testing

/// Issue 17 item 2: `mqtt.broker` holds the mqtt section to the broker's limits, each violation
/// at its key's line and column.
@Suite("config: broker profile")
struct BrokerProfileTests {
    static let url: String = "  url: mqtt://127.0.0.1"
    static let aws: String = url + "\n  broker: aws-iot"
    static let eightSlashes: String = "a/b/c/d/e/f/g"
    static let longBase: String = String(repeating: "t", count: 240)

    static let mistakes: [ConfigMistake] = [
        ConfigMistake("keepalive above 1200s", url, aws + "\n  keepalive: 3600s",
                      "cfg.yaml:6:14: mqtt.keepalive: AWS IoT Core (mqtt.broker: aws-iot) takes a keepalive at least 30s and at most 1200s, got '3600s'"),
        ConfigMistake("keepalive below 30s", url, aws + "\n  keepalive: 10s",
                      "cfg.yaml:6:14: mqtt.keepalive: AWS IoT Core (mqtt.broker: aws-iot) takes a keepalive at least 30s and at most 1200s, got '10s'"),
        ConfigMistake("reconnect_min below 1s", url, aws + "\n  reconnect_min: 500ms",
                      "cfg.yaml:6:18: mqtt.reconnect_min: AWS IoT Core (mqtt.broker: aws-iot) takes a reconnect_min at least 1s and at most 1h (one connect per second), got '500ms'"),
        ConfigMistake("max_message_size above 128KiB", url, aws + "\n  max_message_size: 256KiB",
                      "cfg.yaml:6:21: mqtt.max_message_size: AWS IoT Core (mqtt.broker: aws-iot) takes messages of at most 128KiB, got '256KiB'"),
        ConfigMistake("client id over 128 bytes", url, aws + "\n  client_id: " + String(repeating: "c", count: 129),
                      "cfg.yaml:6:14: mqtt.client_id: AWS IoT Core (mqtt.broker: aws-iot) takes client ids of at most 128 bytes, got 129 bytes"),
        ConfigMistake("topic with 8 slashes", url, aws + "\n  base_topic: " + eightSlashes,
                      "cfg.yaml:6:15: mqtt.base_topic: AWS IoT Core (mqtt.broker: aws-iot) takes topics of at most 7 slashes, and 'a/b/c/d/e/f/g/commands/subscriptionChanged' has 8"),
        ConfigMistake("topic over 256 bytes", url, aws + "\n  base_topic: " + longBase,
                      "cfg.yaml:6:15: mqtt.base_topic: AWS IoT Core (mqtt.broker: aws-iot) takes topics of at most 256 bytes, and the base topic with '/commands/subscriptionChanged' has 269"),
        ConfigMistake("base topic under $aws", url, aws + "\n  base_topic: $aws/things/cm-1",
                      "cfg.yaml:6:15: mqtt.base_topic: a base topic must not begin with '$' (brokers reserve $-topics such as $SYS and drop our publishes), got '$aws/things/cm-1'"),
        ConfigMistake("max_publish_rate above 100/s", url, aws + "\n  max_publish_rate: 200",
                      "cfg.yaml:6:21: mqtt.max_publish_rate: AWS IoT Core (mqtt.broker: aws-iot) takes at most 100 publishes per second, got '200'"),
        ConfigMistake("max_publish_rate of 0", url, url + "\n  max_publish_rate: 0",
                      "cfg.yaml:5:21: mqtt.max_publish_rate: expected messages per second from 0.1 to 100000, got '0'"),
        ConfigMistake("ack_timeout of 0s", url, url + "\n  ack_timeout: 0s",
                      "cfg.yaml:5:16: mqtt.ack_timeout: expected a duration at least 1s and at most 1h, got '0s'"),
        ConfigMistake("session_expiry above 7 days", url, aws + "\n  session_expiry: 8d",
                      "cfg.yaml:6:19: mqtt.session_expiry: AWS IoT Core (mqtt.broker: aws-iot) takes a session_expiry at least 0s and at most 7d, got '8d'"),
        ConfigMistake("session_expiry with protocol 3.1.1", url, url + "\n  protocol: 3.1.1\n  session_expiry: 2h",
                      "cfg.yaml:6:3: mqtt.session_expiry: session_expiry needs protocol: 5 (under MQTT 3.1.1 the broker decides how long a session lasts)"),
        ConfigMistake("session_expiry not whole seconds", url, url + "\n  session_expiry: 1500ms",
                      "cfg.yaml:5:19: mqtt.session_expiry: expected a whole number of seconds, got '1500ms'"),
        ConfigMistake("an unknown protocol", url, url + "\n  protocol: 4",
                      "cfg.yaml:5:13: mqtt.protocol: expected one of: 5, 3.1.1, got '4'"),
        ConfigMistake("an unknown profile", url, url + "\n  broker: aws",
                      "cfg.yaml:5:11: mqtt.broker: expected one of: generic, aws-iot, got 'aws'"),
        // Under generic (a loopback url), MQTT's own limits.
        ConfigMistake("client id with a wildcard", url, url + "\n  client_id: board+7",
                      "cfg.yaml:5:14: mqtt.client_id: a client id must not contain the wildcard '+', got 'board+7'"),
        ConfigMistake("client id with #", url, url + "\n  client_id: \"board#7\"",
                      "cfg.yaml:5:14: mqtt.client_id: a client id must not contain the wildcard '#', got 'board#7'"),
        ConfigMistake("base topic with a wildcard", url, url + "\n  base_topic: acme/+/x",
                      "cfg.yaml:5:15: mqtt.base_topic: a base topic must not contain the wildcard '+', got 'acme/+/x'"),
        ConfigMistake("topic over 65535 bytes", url, url + "\n  base_topic: " + String(repeating: "t", count: 65_510),
                      "cfg.yaml:5:15: mqtt.base_topic: MQTT takes topics of at most 65535 bytes, and the base topic with '/commands/subscriptionChanged' has 65539"),
        ConfigMistake("base topic under $SYS", url, url + "\n  base_topic: $SYS/x",
                      "cfg.yaml:5:15: mqtt.base_topic: a base topic must not begin with '$' (brokers reserve $-topics such as $SYS and drop our publishes), got '$SYS/x'"),
    ]

    /// What AWS refuses and MQTT allows: accepted under generic, which a loopback url selects.
    static let genericAcceptedLines: [String] = [
        "  keepalive: 3600s", "  keepalive: 10s", "  reconnect_min: 500ms", "  max_message_size: 256KiB",
        "  client_id: " + String(repeating: "c", count: 129), "  base_topic: " + eightSlashes, "  base_topic: " + longBase,
        "  max_publish_rate: 5000",
    ]

    @Test("under generic AWS's limits do not apply", arguments: genericAcceptedLines)
    func genericAccepts(_ line: String) throws {
        let plain = ConfigMistake("", Self.url, Self.url + "\n" + line).yaml
        #expect(try ConfigLoader.parse(plain, fileName: "cfg.yaml").mqtt.broker == .generic)
        let explicit = ConfigMistake("", Self.url, Self.url + "\n  broker: generic\n" + line).yaml
        #expect(throws: Never.self) { try ConfigLoader.parse(explicit, fileName: "cfg.yaml") }
    }


    @Test("each limit of the profile is refused at its key", arguments: mistakes)
    func limit(_ mistake: ConfigMistake) {
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(mistake.yaml, fileName: "cfg.yaml") }
        #expect(error?.diagnostics.map(\.description) == mistake.expected)
    }

    @Test("an AWS IoT Core endpoint selects aws-iot; broker: generic overrides it")
    func detection() throws {
        let endpoint = "  url: mqtts://a1b2c3-ats.iot.eu-west-1.amazonaws.com\n  ca_file: /etc/replenishd/AmazonRootCA1.pem"
        let detected = try ConfigLoader.parse(ConfigMistake("", Self.url, endpoint).yaml, fileName: "cfg.yaml")
        #expect(detected.mqtt.broker == .awsIoT)
        #expect(detected.mqtt.keepAliveSeconds == 60)
        #expect(detected.mqtt.reconnectDelayMin == 1)
        let error = #expect(throws: AgentError.self) {
            try ConfigLoader.parse(ConfigMistake("", Self.url, endpoint + "\n  keepalive: 3600s").yaml, fileName: "cfg.yaml")
        }
        #expect(error?.diagnostics.map(\.description)
                == ["cfg.yaml:6:14: mqtt.keepalive: AWS IoT Core (mqtt.broker: aws-iot) takes a keepalive at least 30s and at most 1200s, got '3600s'"])
        let overridden = ConfigMistake("", Self.url, endpoint + "\n  broker: generic\n  keepalive: 3600s").yaml
        #expect(try ConfigLoader.parse(overridden, fileName: "cfg.yaml").mqtt.broker == .generic)
        for host in ["broker.example.com", "iot.amazonaws.com", "a.iot.amazonaws.com.evil.example", "a.iot.eu-west-1.amazonaws.com"] {
            #expect(MQTTSettings.Broker.detected(host: host) == (host == "a.iot.eu-west-1.amazonaws.com" ? .awsIoT : .generic))
        }
    }

    @Test("reconnect_min defaults to 1s, ack_timeout to 30s, max_publish_rate to none (generic) or 90 (aws-iot: with its burst, at most 99 in any second)")
    func defaults() throws {
        let generic = try ConfigLoader.parse(ConfigMistake("", Self.url, Self.url).yaml, fileName: "cfg.yaml").mqtt
        #expect(generic.reconnectDelayMin == 1)
        #expect(generic.ackTimeoutSeconds == 30)
        #expect(generic.maxPublishRate == nil)
        let aws = try ConfigLoader.parse(ConfigMistake("", Self.url, Self.aws).yaml, fileName: "cfg.yaml").mqtt
        #expect(aws.maxPublishRate == 90)
        #expect(aws.reconnectDelayMin == 1)
        let slower = ConfigMistake("", Self.url, Self.aws + "\n  max_publish_rate: 20\n  ack_timeout: 10s").yaml
        let set = try ConfigLoader.parse(slower, fileName: "cfg.yaml").mqtt
        #expect(set.maxPublishRate == 20)
        #expect(set.ackTimeoutSeconds == 10)
    }
}
