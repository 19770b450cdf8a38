#if canImport(Glibc)
import Glibc
#endif
import ReplenishCore
import ReplenishHardware

/// The whole validated configuration of one replenishd instance (`/etc/replenishd/replenishd.yaml`).
public struct AgentConfig: Sendable, Equatable {
    public var device: DeviceSettings
    public var mqtt: MQTTSettings
    public var storage: StorageSettings
    public var report: ReportSettings
    public var slots: [SlotConfig]
    /// Hex digest of the file's bytes (and of the desired document merged over it), sent as
    /// `configHash` in every message.
    public var configHash: String
    /// The version of the cloud's desired document merged over the file; nil for the file alone.
    public var remoteVersion: Int?
    /// That document as received (what the overlay keeps).
    var remoteText: String?
    /// The document changes the connection and has not been confirmed by a connection with it yet.
    public var remoteTentative = false
    /// `remote_config:`.
    public var remoteConfig = RemoteConfigSettings()

    public init(device: DeviceSettings, mqtt: MQTTSettings, storage: StorageSettings,
                report: ReportSettings, slots: [SlotConfig], configHash: String) {
        self.device = device
        self.mqtt = mqtt
        self.storage = storage
        self.report = report
        self.slots = slots
        self.configHash = configHash
    }

    /// How long the start-up report waits for the first reading of every slot: `report.startup_wait`,
    /// else twice the longest `sample_every`, at most a minute.
    public var startupWaitSeconds: Double {
        report.startupWaitSeconds ?? min(60, 2 * (slots.map(\.source.sampleIntervalSeconds).max() ?? 0))
    }
}

/// `device:` section.
public struct DeviceSettings: Sendable, Equatable {
    /// No `/ + #`, no NUL, 1...128 bytes.
    public var id: String
    /// Time zone for `report.daily_at` and day boundaries; nil means the system's local zone.
    public var timeZone: String?
    /// The board keeps time across power cuts (battery-backed RTC).
    public var hasRTC: Bool
    /// Key `alexa_endpoint_id`: the device's `endpointId` in Alexa discovery (`alexa-discovery`); the id by default.
    public var alexaEndpointID: String

    public init(id: String, timeZone: String? = nil, hasRTC: Bool = false, alexaEndpointID: String? = nil) {
        self.id = id
        self.timeZone = timeZone
        self.hasRTC = hasRTC
        self.alexaEndpointID = alexaEndpointID ?? id
    }

    /// The zone `timeZone` names (checked when the config was read), else the system's.
    public var zone: LocalZone { timeZone.flatMap { LocalZone(identifier: $0) } ?? .current }
}

/// `mqtt:` section.
public struct MQTTSettings: Sendable, Equatable {
    /// Key `broker`: whose limits the config is checked against (`BrokerProfile.swift`).
    public enum Broker: String, Sendable, Equatable, CaseIterable {
        /// MQTT's own limits: topics up to 65,535 bytes, no `$` base topic, no wildcards in names.
        case generic
        /// AWS IoT Core's quotas: topics of at most 256 bytes and 7 slashes, client ids of at most
        /// 128 bytes, keepalive 30-1200 s, payloads up to 128 KiB, at most one connect per second.
        case awsIoT = "aws-iot"
    }

    /// Key `protocol`: the MQTT version spoken to the broker.
    public enum ProtocolVersion: String, Sendable, Equatable, CaseIterable {
        /// Reason codes on CONNACK, PUBACK, SUBACK and DISCONNECT; session and message expiry; properties.
        case v5 = "5"
        case v311 = "3.1.1"
    }

    /// Default: `aws-iot` when the url's host is an AWS IoT Core endpoint
    /// (`*.iot.<region>.amazonaws.com`), else `generic`.
    public var broker: Broker = .generic
    /// Parsed `url`: `mqtt://host[:port]` (1883) or `mqtts://host[:port]` (8883).
    public var url: BrokerURL
    /// Base topic; default `replenish/v1/{device.id}`.
    public var baseTopic: String
    /// Default: the device id.
    public var clientID: String
    /// Keepalive in seconds (key `keepalive`, a duration; default 60s).
    public var keepAliveSeconds: Int
    public var username: String?
    /// File holding the password (key `password_file`); the password itself is never in the config.
    public var passwordFile: String?
    /// Shortest wait before reconnecting (key `reconnect_min`; default 1s: AWS IoT Core allows one
    /// connect per second and client id).
    public var reconnectDelayMin: Double = 1
    /// Longest wait before reconnecting (key `reconnect_max`; default 30s); each wait is drawn at
    /// random up to an exponentially growing bound, so a fleet does not reconnect in lockstep.
    public var reconnectDelayMax: Double = 30
    /// PEM file of the CAs that may sign the broker's certificate (key `ca_file`; mqtts:// only).
    public var caFile: String?
    /// Directory of hashed CA certificates (key `ca_dir`; mqtts:// only).
    public var caDirectory: String?
    /// Client certificate for mutual TLS (key `cert_file`; with `key_file`).
    public var certFile: String?
    /// The client certificate's private key (key `key_file`); must not be readable by others.
    public var keyFile: String?
    /// The one ALPN protocol to offer (key `alpn`), e.g. `x-amzn-mqtt-ca` for AWS IoT Core on port 443.
    public var alpn: String?
    /// Allows plaintext `mqtt://` to a host other than loopback (key `allow_insecure`; default false).
    public var allowInsecure: Bool = false
    /// The largest message the broker takes (key `max_message_size`): a status report that would be
    /// larger goes out in parts. Default AWS IoT Core's 128 KiB payload limit.
    public var maxMessageBytes: Int = MQTTSettings.defaultMaxMessageBytes
    /// Whether the birth (`online`), the will and the farewell (`offline`) carry the retain flag
    /// (key `retain`; default true). False for a broker or policy that refuses retained messages
    /// (mosquitto's `retain_available false` closes the connection; AWS IoT Core needs `iot:RetainPublish`).
    public var retain: Bool = true
    /// Most messages per second the outbox drainer publishes (key `max_publish_rate`); nil for no
    /// limit. Default: none under `generic`, 90 under `aws-iot` (AWS IoT Core allows 100 per connection; with the bucket's burst of a tenth, 90 stays under it in every second).
    public var maxPublishRate: Double?
    /// How long a QoS 1 publish may wait for its PUBACK before the client reconnects and publishes
    /// it again (key `ack_timeout`; default 30s): a broker that throttles by withholding PUBACKs
    /// must not stall the outbox.
    public var ackTimeoutSeconds: Double = 30
    /// Key `protocol`: `5` (default) or `3.1.1`.
    public var protocolVersion: ProtocolVersion = .v5
    /// How long the broker keeps the device's session (its subscription and the commands queued
    /// for it) after the connection ends, in whole seconds (key `session_expiry`; default 1h, AWS
    /// IoT Core's default; at most 7d under `aws-iot`). MQTT 5 only: under 3.1.1 the broker decides.
    public var sessionExpirySeconds: Int = 3_600

    public static let defaultMaxMessageBytes = 128 << 10
    /// Room for one slot of a status report with its header, several times over.
    public static let minimumMaxMessageBytes = 16 << 10
    /// MQTT's own limit on a packet's remaining length (268,435,455 bytes), less room for topic and header.
    public static let maximumMaxMessageBytes = 256 << 20

    public init(url: BrokerURL, baseTopic: String, clientID: String, keepAliveSeconds: Int = 60,
                username: String? = nil, passwordFile: String? = nil,
                caFile: String? = nil, caDirectory: String? = nil, certFile: String? = nil, keyFile: String? = nil,
                alpn: String? = nil, allowInsecure: Bool = false) {
        self.url = url
        self.baseTopic = baseTopic
        self.clientID = clientID
        self.keepAliveSeconds = keepAliveSeconds
        self.username = username
        self.passwordFile = passwordFile
        self.caFile = caFile
        self.caDirectory = caDirectory
        self.certFile = certFile
        self.keyFile = keyFile
        self.alpn = alpn
        self.allowInsecure = allowInsecure
    }
}

/// A broker address from `mqtt.url`.
public struct BrokerURL: Sendable, Equatable, CustomStringConvertible {
    public var tls: Bool
    public var host: String
    public var port: Int

    public init(tls: Bool, host: String, port: Int) {
        self.tls = tls
        self.host = host
        self.port = port
    }

    /// True for `localhost`, 127.0.0.0/8 and ::1: traffic that never leaves the board.
    public var isLoopback: Bool {
        if host.lowercased() == "localhost" { return true }
        var v4 = in_addr()
        if inet_pton(AF_INET, host, &v4) == 1 { return UInt32(bigEndian: v4.s_addr) >> 24 == 127 }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, host, &v6) == 1 {
            return withUnsafeBytes(of: &v6) { Array($0) } == Array(repeating: 0, count: 15) + [1]
        }
        return false
    }

    /// IPv6 hosts are bracketed, as in the config: `mqtt://[fe80::1]:1883`.
    public var description: String {
        "\(tls ? "mqtts" : "mqtt")://\(host.contains(":") ? "[\(host)]" : host):\(port)"
    }
}

/// `storage:` section.
public struct StorageSettings: Sendable, Equatable {
    /// The SQLite database file.
    public var path: String
    /// Outbox bound in bytes (key `outbox_limit`, a size such as "4MiB"; default 4 MiB).
    public var outboxLimitBytes: Int
    /// How often in-memory accumulations are written (key `flush_interval`; default 5m).
    public var flushIntervalSeconds: Double

    public init(path: String, outboxLimitBytes: Int = 4 << 20, flushIntervalSeconds: Double = 300) {
        self.path = path
        self.outboxLimitBytes = outboxLimitBytes
        self.flushIntervalSeconds = flushIntervalSeconds
    }
}

/// `report:` section.
public struct ReportSettings: Sendable, Equatable {
    /// Local time of the daily report (key `daily_at`, "HH:MM").
    public var dailyAt: TimeOfDay
    /// Optional extra period (key `every`, a duration such as "6h").
    public var everySeconds: Double?
    /// Send a report at start-up (key `on_start`, default true).
    public var onStart: Bool
    /// MQTT 5's message expiry interval on status reports, in whole seconds (key `expire_after`;
    /// default none): a broker drops a report it could not hand to a subscriber in that time.
    /// No effect under MQTT 3.1.1.
    public var expireAfterSeconds: Int?
    /// How long the start-up report waits for the first reading of every slot (key
    /// `startup_wait`); nil for the default, `AgentConfig.startupWaitSeconds`.
    public var startupWaitSeconds: Double?

    public init(dailyAt: TimeOfDay, everySeconds: Double? = nil, onStart: Bool = true) {
        self.dailyAt = dailyAt
        self.everySeconds = everySeconds
        self.onStart = onStart
    }
}

/// One entry of `slots:`.
public struct SlotConfig: Sendable, Equatable {
    public var definition: SlotDefinition
    public var source: SourceConfig
    /// The slot's `simulation:` settings, if any (used by `driver: simulated` and by `--simulate`).
    public var simulation: SimulationSettings?
    /// The slot's `replenishment:` settings: device or cloud mode and the Dash rules' numbers.
    public var replenishment = ReplenishmentSettings()
    /// Key `alexa_friendly_name`: the name Alexa shows for the slot's sensor (`alexa-discovery`);
    /// by default the slot id in words ("coffee-pods" gives "Coffee pods").
    public var alexaFriendlyName: String
    /// Key `dash_replenishment_id`: the consumable's Dash replenishment id, announced in discovery
    /// (`configuration.replenishment`); nil when the maker has none yet.
    public var dashReplenishmentID: String?

    public init(definition: SlotDefinition, source: SourceConfig, simulation: SimulationSettings? = nil) {
        self.definition = definition
        self.source = source
        self.simulation = simulation
        self.alexaFriendlyName = SlotConfig.defaultFriendlyName(for: definition.id)
    }

    /// The slot id in words: separators become spaces, the first letter a capital.
    static func defaultFriendlyName(for id: String) -> String {
        let words = id.split(whereSeparator: { $0 == "-" || $0 == "_" }).joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }
}

/// A slot's `source:`: which driver reads it, with what settings, and how often.
public struct SourceConfig: Sendable, Equatable {
    public enum Driver: String, Sendable, Equatable, CaseIterable {
        case simulated
        case gpioPulseCounter = "gpio-pulse-counter"
        case gpioSwitchLadder = "gpio-switch-ladder"
        case gpioPresence = "gpio-presence"
        case hx711
        case ads1115
        case max17048
        case i2cRegister = "i2c-register"
    }

    public var driver: Driver
    /// Key `sample_every`, a duration; default 60s.
    public var sampleIntervalSeconds: Double
    /// The driver's own settings; nil for `simulated`.
    public var hardware: HardwareSettings?
    /// Key `filters`: applied in order to a raw-value driver's readings (hx711, ads1115, max17048,
    /// i2c-register) before the ledger sees them.
    public var filters: [SensorFilter]
    /// Key `health`: how many implausible readings in a row make a fault, how many good ones recover.
    public var health: HealthSettings

    public init(driver: Driver, sampleIntervalSeconds: Double = 60, hardware: HardwareSettings? = nil,
                filters: [SensorFilter] = [], health: HealthSettings = HealthSettings()) {
        self.driver = driver
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.hardware = hardware
        self.filters = filters
        self.health = health
    }
}

/// `health: {fault_after: 3, recover_after: 3}`.
public struct HealthSettings: Sendable, Equatable {
    public var faultAfter: Int
    public var recoverAfter: Int

    public init(faultAfter: Int = 3, recoverAfter: Int = 3) {
        self.faultAfter = faultAfter
        self.recoverAfter = recoverAfter
    }
}

/// How a hardware source is wired and read.
public enum HardwareSettings: Sendable, Equatable {
    case pulseCounter(GPIOLineConfig, PulseCounterSettings)
    case switchLadder(GPIOChipConfig, SwitchLadderSettings)
    case presence(GPIOLineConfig, PresenceSettings)
    case hx711(GPIOChipConfig, HX711Settings)
    case ads1115(ADS1115Settings)
    case max17048(MAX17048Settings)
    case i2cRegister(I2CRegisterSettings)
}

/// The GPIO chip of a source and how its lines are requested (keys `chip`, `active_low`, `bias`).
public struct GPIOChipConfig: Sendable, Equatable {
    public enum Bias: String, Sendable, Equatable, CaseIterable {
        case asIs = "as-is"
        case disable
        case pullUp = "pull-up"
        case pullDown = "pull-down"
    }

    /// Chip label, name (`gpiochip0`) or path (`/dev/gpiochip0`).
    public var chip: String
    public var activeLow: Bool
    public var bias: Bias

    public init(chip: String, activeLow: Bool = false, bias: Bias = .asIs) {
        self.chip = chip
        self.activeLow = activeLow
        self.bias = bias
    }
}

/// One GPIO line of a source (key `line`: a line name such as `GPIO17`, or an offset).
public struct GPIOLineConfig: Sendable, Equatable {
    public var chip: GPIOChipConfig
    public var line: String

    public init(chip: GPIOChipConfig, line: String) {
        self.chip = chip
        self.line = line
    }
}
