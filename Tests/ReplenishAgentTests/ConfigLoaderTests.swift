import Foundation
import ReplenishCore
import ReplenishHardware
import Testing
@testable import ReplenishAgent

/// Every key of the schema, with values that differ from the defaults.
private let completeConfig = """
    device:
      id: cm-000123
      timezone: Europe/Berlin
      has_rtc: true
    mqtt:
      url: mqtts://broker.example.com
      base_topic: acme/coffee/cm-000123
      client_id: replenishd-cm-000123
      keepalive: 90s
      username: cm-000123
      password_file: /etc/replenishd/mqtt.password
      ca_file: /etc/replenishd/AmazonRootCA1.pem
      ca_dir: /etc/ssl/certs
      cert_file: /etc/replenishd/device.crt
      key_file: /etc/replenishd/device.key
      alpn: [x-amzn-mqtt-ca]
      allow_insecure: true
    storage:
      path: /var/lib/replenishd/state.db
      outbox_limit: 512KiB
      flush_interval: 10m
    report:
      daily_at: "03:30"
      every: 6h
      on_start: false
    slots:
      - id: water
        sensor: level
        measurement: {type: Volume, unit: MILLILITER}
        capacity: 1800
        refill_hysteresis: 90
        low_threshold: 20%
        forecast_days: 7
        alexa_instance: Tank.Level
        source:
          driver: simulated
          sample_every: 250ms
        simulation:
          daily_consumption: 50%
          uses_per_day: 6
          noise: 0.1
          refill: below 10%
          initial: 1000
          seed: 42
      - id: descaler
        sensor: usage
        measurement: {type: Count}
        capacity: 12
        source: {driver: simulated}
        simulation: {refill: every 30d}
      - id: beans
        sensor: levelUsage
        measurement: {type: Percentage}
        capacity: 100
        refill_hysteresis: 5%
        source: {driver: simulated}
        simulation: {refill: never}

    """

/// The smallest valid file: every optional key left out.
private let minimalConfig = """
    device:
      id: cm-000123
    mqtt:
      url: mqtt://127.0.0.1
    storage:
      path: /var/lib/replenishd/state.db
    report:
      daily_at: 3:00
    slots:
      - id: water_tank
        sensor: level
        measurement: {type: Volume, unit: LITER}
        capacity: 1.8
        source: {driver: simulated}

    """

@Suite("config loading")
struct ConfigLoaderTests {
    @Test("a complete config loads with every field")
    func completeConfigLoads() throws {
        let config = try ConfigLoader.parse(completeConfig, fileName: "cfg.yaml")
        let water = SlotDefinition(
            id: "water", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
            capacity: 1800, refillHysteresis: 90, lowThreshold: 360, forecastWindowDays: 7,
            alexaInstance: "Tank.Level")
        let descaler = SlotDefinition(id: "descaler", sensor: .usage, measurement: Measurement(type: .count),
                                      capacity: 12)
        let beans = SlotDefinition(id: "beans", sensor: .levelUsage, measurement: Measurement(type: .percentage),
                                   capacity: 100, refillHysteresis: 5)
        let expected = AgentConfig(
            device: DeviceSettings(id: "cm-000123", timeZone: "Europe/Berlin", hasRTC: true),
            mqtt: MQTTSettings(
                url: BrokerURL(tls: true, host: "broker.example.com", port: 8883),
                baseTopic: "acme/coffee/cm-000123", clientID: "replenishd-cm-000123", keepAliveSeconds: 90,
                username: "cm-000123", passwordFile: "/etc/replenishd/mqtt.password",
                caFile: "/etc/replenishd/AmazonRootCA1.pem", caDirectory: "/etc/ssl/certs",
                certFile: "/etc/replenishd/device.crt", keyFile: "/etc/replenishd/device.key",
                alpn: "x-amzn-mqtt-ca", allowInsecure: true),
            storage: StorageSettings(path: "/var/lib/replenishd/state.db", outboxLimitBytes: 512 << 10,
                                     flushIntervalSeconds: 600),
            report: ReportSettings(dailyAt: TimeOfDay(hour: 3, minute: 30)!, everySeconds: 21_600, onStart: false),
            slots: [
                SlotConfig(
                    definition: water, source: SourceConfig(driver: .simulated, sampleIntervalSeconds: 0.25),
                    simulation: SimulationSettings(dailyConsumption: 900, usesPerDay: 6, noise: 0.1,
                                                   refill: .below(fraction: 0.1), initialQuantity: 1000, seed: 42)),
                SlotConfig(definition: descaler, source: SourceConfig(driver: .simulated),
                           simulation: SimulationSettings(dailyConsumption: 1.2, usesPerDay: 8,
                                                          refill: .every(seconds: 30 * 86_400))),
                SlotConfig(definition: beans, source: SourceConfig(driver: .simulated),
                           simulation: SimulationSettings(dailyConsumption: 10, usesPerDay: 8, refill: .never)),
            ],
            configHash: configHash(of: completeConfig.utf8))
        #expect(config == expected)
    }

    @Test("left-out keys get their defaults")
    func defaultsAreFilled() throws {
        let config = try ConfigLoader.parse(minimalConfig, fileName: "cfg.yaml")
        #expect(config.device == DeviceSettings(id: "cm-000123", timeZone: nil, hasRTC: false))
        #expect(config.mqtt == MQTTSettings(url: BrokerURL(tls: false, host: "127.0.0.1", port: 1883),
                                            baseTopic: "replenish/v1/cm-000123", clientID: "cm-000123",
                                            keepAliveSeconds: 60, username: nil, passwordFile: nil))
        #expect(config.storage == StorageSettings(path: "/var/lib/replenishd/state.db",
                                                  outboxLimitBytes: 4 << 20, flushIntervalSeconds: 300))
        #expect(config.report == ReportSettings(dailyAt: TimeOfDay(hour: 3, minute: 0)!, everySeconds: nil,
                                                onStart: true))
        let slot = try #require(config.slots.first)
        #expect(slot.definition.refillHysteresis == 1.8 * 0.05)
        #expect(slot.definition.lowThreshold == nil)
        #expect(slot.definition.forecastWindowDays == 14)
        #expect(slot.definition.alexaInstance == "WaterTank.Level")
        #expect(slot.source == SourceConfig(driver: .simulated, sampleIntervalSeconds: 60))
        #expect(slot.simulation == nil)
    }

    @Test("CRLF line endings read the same, repeated keys included")
    func crlfLineEndings() throws {
        let crlf = minimalConfig.replacingOccurrences(of: "\n", with: "\r\n")
        let config = try ConfigLoader.parse(crlf, fileName: "cfg.yaml")
        #expect(config.slots.map(\.definition.id) == ["water_tank"])
        let repeated = crlf.replacingOccurrences(of: "  id: cm-000123\r\n", with: "  id: cm-000123\r\n  id: cm-1\r\n")
        let error = #expect(throws: AgentError.self) { try ConfigLoader.parse(repeated, fileName: "cfg.yaml") }
        #expect(error?.code == .configRejected)
        #expect(error?.description == "cfg.yaml:3:3: device.id: duplicate key 'id' (first given at line 2)")
    }

    @Test("load reads the file, names it as given and hashes its bytes")
    func loadReadsFile() throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenishd-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("replenishd.yaml").path
        try Data(minimalConfig.utf8).write(to: URL(fileURLWithPath: path))

        let config = try ConfigLoader.load(path: path)
        #expect(config.configHash == configHash(of: Data(minimalConfig.utf8)))
        #expect(config.configHash.count == 16)

        let missing = directory.appendingPathComponent("absent.yaml").path
        let error = #expect(throws: AgentError.self) { try ConfigLoader.load(path: missing) }
        #expect(error?.code == .configRejected)
        #expect(error?.diagnostics.count == 1)
        #expect(error?.description == "\(missing):1:1: cannot read the file: No such file or directory")
    }

    @Test("a mistake is reported with file, line, column, key path and what was expected",
          arguments: ConfigMistake.all + ConfigMistake.limits)
    func mistake(_ mistake: ConfigMistake) throws {
        let error = #expect(throws: AgentError.self) {
            try ConfigLoader.parse(mistake.yaml, fileName: "cfg.yaml")
        }
        #expect(error?.code == .configRejected)
        #expect(error?.diagnostics.map(\.description) == mistake.expected)
    }
}

/// Alexa's Volume and Weight units as `check` lists them, spelt out (MeasurementTests pins the lists).
private let volumeUnits = "LITER, MILLILITER, METRIC_CUP, METRIC_TEASPOON, UK_TABLESPOON, AU_TABLESPOON, CUBIC_CENTIMETER, CUBIC_METER, "
    + "UK_GALLON, UK_QUART, UK_PINT, UK_CUP, UK_GILL, UK_FLUID_OUNCE, UK_FLUID_DRAM, CUBIC_INCH, CUBIC_FOOT, CUBIC_YARD, "
    + "US_FLUID_GALLON, US_FLUID_QUART, US_FLUID_PINT, US_FLUID_CUP, US_FLUID_OUNCE, US_GILL, US_TABLESPOON, US_TEASPOON, "
    + "US_DRAM, US_DRY_GALLON, US_DRY_QUART, US_DRY_PINT"
private let weightUnits = "KILOGRAM, GRAM, MILLIGRAM, MICROGRAM, METRIC_POUND, POUND, OUNCE, DRAM"

/// A broken variant of `minimalConfig` (or a whole file) and the exact diagnostics it must produce.
///
/// Lines of `minimalConfig` for reference:
/// ```
///  1 device:                                      9 slots:
///  2   id: cm-000123                             10   - id: water_tank
///  3 mqtt:                                       11     sensor: level
///  4   url: mqtt://127.0.0.1                     12     measurement: {type: Volume, unit: LITER}
///  5 storage:                                    13     capacity: 1.8
///  6   path: /var/lib/replenishd/state.db        14     source: {driver: simulated}
///  7 report:
///  8   daily_at: 3:00
/// ```
struct ConfigMistake: CustomTestStringConvertible, Sendable {
    let name: String
    let yaml: String
    let expected: [String]

    var testDescription: String { name }

    /// `minimalConfig` with each `(line, replacement)` applied; a replacement may span several lines.
    init(_ name: String, replacing replacements: [(String, String)], _ expected: String...) {
        self.init(name, yaml: Self.minimalConfig(replacing: replacements), expected)
    }

    /// `minimalConfig` with one line replaced.
    init(_ name: String, _ line: String, _ replacement: String, _ expected: String...) {
        self.init(name, yaml: Self.minimalConfig(replacing: [(line, replacement)]), expected)
    }

    init(_ name: String, yaml: String, _ expected: [String]) {
        self.name = name
        self.yaml = yaml
        self.expected = expected
    }

    private static func minimalConfig(replacing replacements: [(String, String)]) -> String {
        var yaml = ReplenishAgentTests.minimalConfig
        for (line, replacement) in replacements {
            precondition(yaml.contains(line + "\n"), "no line '\(line)' in the minimal config")
            yaml = yaml.replacingOccurrences(of: line + "\n", with: replacement.isEmpty ? "" : replacement + "\n")
        }
        return yaml
    }

    static let all: [ConfigMistake] = [
        ConfigMistake("syntax error", "  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1: x",
                      "cfg.yaml:4:24: invalid YAML: mapping values are not allowed in this context"),
        ConfigMistake("unterminated quote", "  daily_at: 3:00", "  daily_at: \"3:00",
                      "cfg.yaml:15:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 8, column 13)"),
        ConfigMistake("unknown key with a suggestion", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://127.0.0.1\n  keep_alive: 30s",
                      "cfg.yaml:5:3: mqtt.keep_alive: unknown key 'keep_alive' (expected one of: url, base_topic, client_id, keepalive, username, password_file, reconnect_min, reconnect_max, max_message_size, ca_file, ca_dir, cert_file, key_file, alpn, allow_insecure, broker, retain, max_publish_rate, ack_timeout, protocol, session_expiry); did you mean 'keepalive'?"),
        ConfigMistake("misspelt required key", "  url: mqtt://127.0.0.1", "  urll: mqtt://127.0.0.1",
                      "cfg.yaml:4:3: mqtt.urll: unknown key 'urll' (expected one of: url, base_topic, client_id, keepalive, username, password_file, reconnect_min, reconnect_max, max_message_size, ca_file, ca_dir, cert_file, key_file, alpn, allow_insecure, broker, retain, max_publish_rate, ack_timeout, protocol, session_expiry); did you mean 'url'?",
                      "cfg.yaml:4:3: mqtt: missing required key 'url'"),
        ConfigMistake("missing required key", replacing: [
            ("  url: mqtt://127.0.0.1", "  client_id: board-7"),
        ], "cfg.yaml:4:3: mqtt: missing required key 'url'"),
        ConfigMistake("missing section", replacing: [("storage:", ""), ("  path: /var/lib/replenishd/state.db", "")],
                      "cfg.yaml:1:1: missing required key 'storage'"),
        ConfigMistake("sequence instead of a mapping", "  daily_at: 3:00", "  - 3:00",
                      "cfg.yaml:8:3: report: expected a mapping, got a sequence"),
        ConfigMistake("a word where a number belongs", "    capacity: 1.8", "    capacity: abc",
                      "cfg.yaml:13:15: slots[0].capacity: expected a number, got 'abc'"),
        ConfigMistake("a quoted number is a string", "    capacity: 1.8", "    capacity: \"1.8\"",
                      "cfg.yaml:13:15: slots[0].capacity: expected a number, got the quoted string '1.8'"),
        ConfigMistake("not a boolean", "  daily_at: 3:00", "  daily_at: 3:00\n  on_start: yes please",
                      "cfg.yaml:9:13: report.on_start: expected true or false, got 'yes please'"),
        ConfigMistake("YAML 1.1 booleans are not booleans", "  id: cm-000123", "  id: cm-000123\n  has_rtc: yes",
                      "cfg.yaml:3:12: device.has_rtc: expected true or false, got 'yes'"),
        ConfigMistake("a quoted true is a string", "  id: cm-000123", "  id: cm-000123\n  has_rtc: \"true\"",
                      "cfg.yaml:3:12: device.has_rtc: expected true or false, got the quoted string 'true'"),
        ConfigMistake("empty required value", "  path: /var/lib/replenishd/state.db", "  path:",
                      "cfg.yaml:6:8: storage.path: expected a string, got nothing"),
        ConfigMistake("bad duration", "  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1\n  keepalive: 30 parsecs",
                      "cfg.yaml:5:14: mqtt.keepalive: expected a duration such as '90s', '5m' or '1h30m', got '30 parsecs'"),
        ConfigMistake("duration out of range", "  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1\n  keepalive: 2s",
                      "cfg.yaml:5:14: mqtt.keepalive: expected a duration at least 5s and at most 65535s, got '2s'"),
        ConfigMistake("bad size", "  path: /var/lib/replenishd/state.db",
                      "  path: /var/lib/replenishd/state.db\n  outbox_limit: 4 megs",
                      "cfg.yaml:7:17: storage.outbox_limit: expected a size such as '512KiB', '4MiB' or '1MB', got '4 megs'"),
        ConfigMistake("size too small", "  path: /var/lib/replenishd/state.db",
                      "  path: /var/lib/replenishd/state.db\n  outbox_limit: 1000",
                      "cfg.yaml:7:17: storage.outbox_limit: expected a size of at least 1KiB and at most 1GiB, got '1000'"),
        ConfigMistake("bad url scheme", "  url: mqtt://127.0.0.1", "  url: http://127.0.0.1",
                      "cfg.yaml:4:8: mqtt.url: unsupported scheme 'http' (expected mqtt://host[:port] or mqtts://host[:port])"),
        ConfigMistake("bad url port", "  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1:99999",
                      "cfg.yaml:4:8: mqtt.url: expected a port from 1 to 65535, got '99999'"),
        ConfigMistake("plaintext MQTT to a host that is not loopback", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://broker.example.com",
                      "cfg.yaml:4:8: mqtt.url: plaintext MQTT to 'broker.example.com' is refused; use mqtts:// or set mqtt.allow_insecure: true"),
        ConfigMistake("plaintext MQTT to a LAN address", "  url: mqtt://127.0.0.1", "  url: mqtt://192.168.1.20:1883",
                      "cfg.yaml:4:8: mqtt.url: plaintext MQTT to '192.168.1.20' is refused; use mqtts:// or set mqtt.allow_insecure: true"),
        ConfigMistake("allow_insecure must be a boolean", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://broker.example.com\n  allow_insecure: yes",
                      "cfg.yaml:5:19: mqtt.allow_insecure: expected true or false, got 'yes'"),
        ConfigMistake("mqtts without a CA", "  url: mqtt://127.0.0.1", "  url: mqtts://broker.example.com",
                      "cfg.yaml:4:8: mqtt.url: mqtts:// needs ca_file or ca_dir to verify the broker's certificate"),
        ConfigMistake("client certificate without its key", "  url: mqtt://127.0.0.1",
                      "  url: mqtts://broker.example.com\n  ca_file: /etc/replenishd/ca.pem\n  cert_file: /etc/replenishd/device.crt",
                      "cfg.yaml:6:3: mqtt.cert_file: cert_file needs key_file (the client certificate's private key)"),
        ConfigMistake("client key without its certificate", "  url: mqtt://127.0.0.1",
                      "  url: mqtts://broker.example.com\n  ca_dir: /etc/ssl/certs\n  key_file: /etc/replenishd/device.key",
                      "cfg.yaml:6:3: mqtt.key_file: key_file needs cert_file (the client certificate)"),
        ConfigMistake("TLS keys with mqtt://", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://127.0.0.1\n  ca_file: /etc/replenishd/ca.pem\n  alpn: x-amzn-mqtt-ca",
                      "cfg.yaml:5:3: mqtt.ca_file: TLS settings need an mqtts:// url (mqtt.url is mqtt://127.0.0.1:1883)"),
        ConfigMistake("more than one ALPN protocol", "  url: mqtt://127.0.0.1",
                      "  url: mqtts://broker.example.com\n  ca_file: /etc/replenishd/ca.pem\n  alpn: [x-amzn-mqtt-ca, mqtt]",
                      "cfg.yaml:6:9: mqtt.alpn: expected one ALPN protocol (libmosquitto offers a single one), got 2"),
        ConfigMistake("misspelt TLS key suggests the right one", "  url: mqtt://127.0.0.1",
                      "  url: mqtts://broker.example.com\n  ca_file: /etc/replenishd/ca.pem\n  keyfile: /etc/replenishd/device.key",
                      "cfg.yaml:6:3: mqtt.keyfile: unknown key 'keyfile' (expected one of: url, base_topic, client_id, keepalive, username, password_file, reconnect_min, reconnect_max, max_message_size, ca_file, ca_dir, cert_file, key_file, alpn, allow_insecure, broker, retain, max_publish_rate, ack_timeout, protocol, session_expiry); did you mean 'key_file'?"),
        ConfigMistake("device id with a topic separator", "  id: cm-000123", "  id: cm/000123",
                      "cfg.yaml:2:7: device.id: a device id must not contain '/' (it is one MQTT topic level), got 'cm/000123'"),
        ConfigMistake("device id with a space", "  id: cm-000123", "  id: \"cm 000123\"",
                      "cfg.yaml:2:7: device.id: a device id must not contain whitespace, NUL or control characters, got 'cm 000123'"),
        ConfigMistake("device id too long", "  id: cm-000123", "  id: " + String(repeating: "x", count: 129),
                      "cfg.yaml:2:7: device.id: expected a device id of at most 128 bytes, got 129 bytes"),
        ConfigMistake("unknown time zone", "  id: cm-000123", "  id: cm-000123\n  timezone: Europe/Berln",
                      "cfg.yaml:3:13: device.timezone: unknown time zone 'Europe/Berln' (expected an IANA name such as 'Europe/Berlin')"),
        ConfigMistake("wildcard in the base topic", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://127.0.0.1\n  base_topic: replenish/#",
                      "cfg.yaml:5:15: mqtt.base_topic: a base topic must not contain the wildcard '#', got 'replenish/#'"),
        ConfigMistake("bad time of day", "  daily_at: 3:00", "  daily_at: \"25:00\"",
                      "cfg.yaml:8:13: report.daily_at: expected a time of day as \"HH:MM\", got the quoted string '25:00'"),
        ConfigMistake("negative capacity", "    source: {driver: simulated}",
                      "    source: {driver: simulated}\n  - id: beans\n    sensor: usage\n    measurement: {type: Weight, unit: GRAM}\n    capacity: -3\n    source: {driver: simulated}",
                      "cfg.yaml:18:15: slots[1].capacity: expected a positive number, got -3"),
        ConfigMistake("unit missing for Volume", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Volume}",
                      "cfg.yaml:12:18: slots[0].measurement: missing required key 'unit' (a Volume measurement needs one of: " + volumeUnits + ")"),
        ConfigMistake("unit that does not fit the type", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Weight, unit: LITER}",
                      "cfg.yaml:12:39: slots[0].measurement.unit: expected one of: " + weightUnits
                      + " (Alexa's Weight units), got 'LITER'; LITER is a Volume unit"),
        ConfigMistake("weight unit on a Volume slot", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Volume, unit: KILOGRAM}",
                      "cfg.yaml:12:39: slots[0].measurement.unit: expected one of: " + volumeUnits
                      + " (Alexa's Volume units), got 'KILOGRAM'; KILOGRAM is a Weight unit"),
        ConfigMistake("the old invented US_GALLON", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Volume, unit: US_GALLON}",
                      "cfg.yaml:12:39: slots[0].measurement.unit: expected one of: " + volumeUnits
                      + " (Alexa's Volume units), got 'US_GALLON'"),
        ConfigMistake("a unit name in the wrong case", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Volume, unit: liter}",
                      "cfg.yaml:12:39: slots[0].measurement.unit: expected one of: " + volumeUnits
                      + " (Alexa's Volume units), got 'liter'"),
        ConfigMistake("unit given for Count", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Count, unit: LITER}",
                      "cfg.yaml:12:32: slots[0].measurement.unit: a Count measurement takes no unit"),
        ConfigMistake("usage sensor measuring Percentage", replacing: [
            ("    sensor: level", "    sensor: usage"),
            ("    measurement: {type: Volume, unit: LITER}", "    measurement: {type: Percentage}"),
            ("    capacity: 1.8", "    capacity: 100"),
        ], "cfg.yaml:12:25: slots[0].measurement.type: a usage sensor counts what was used and cannot measure Percentage (expected Count, Volume or Weight)"),
        ConfigMistake("threshold above capacity", "    capacity: 1.8", "    capacity: 1.8\n    low_threshold: 2",
                      "cfg.yaml:14:20: slots[0].low_threshold: expected a quantity from 0 to the capacity (1.8), got 2"),
        ConfigMistake("duplicate slot id", "    source: {driver: simulated}",
                      "    source: {driver: simulated}\n  - id: water_tank\n    sensor: level\n    measurement: {type: Count}\n    capacity: 3\n    source: {driver: simulated}",
                      "cfg.yaml:15:9: slots[1].id: duplicate slot id 'water_tank' (first used by slots[0] at line 10)"),
        ConfigMistake("unknown driver", "    source: {driver: simulated}", "    source: {driver: gpio}",
                      "cfg.yaml:14:22: slots[0].source.driver: unknown driver 'gpio' (known drivers: simulated, gpio-pulse-counter, gpio-switch-ladder, gpio-presence, hx711, ads1115, max17048, i2c-register)"),
        ConfigMistake("bad refill plan", "    source: {driver: simulated}",
                      "    source: {driver: simulated}\n    simulation: {refill: sometimes}",
                      "cfg.yaml:15:26: slots[0].simulation.refill: expected 'below N%', 'every DURATION' or 'never', got 'sometimes'"),
        ConfigMistake("empty slot list", replacing: [
            ("slots:", "slots: []"), ("  - id: water_tank", ""), ("    sensor: level", ""),
            ("    measurement: {type: Volume, unit: LITER}", ""), ("    capacity: 1.8", ""),
            ("    source: {driver: simulated}", ""),
        ], "cfg.yaml:9:8: slots: expected at least one slot"),
        ConfigMistake("repeated key", "  id: cm-000123", "  id: cm-000123\n  id: cm-000124",
                      "cfg.yaml:3:3: device.id: duplicate key 'id' (first given at line 2)"),
        ConfigMistake("repeated key in a flow mapping", "    measurement: {type: Volume, unit: LITER}",
                      "    measurement: {type: Volume, unit: LITER, unit: GRAM}",
                      "cfg.yaml:12:46: slots[0].measurement.unit: duplicate key 'unit' (first given at line 12)"),
        ConfigMistake("repeated keys do not hide other mistakes", replacing: [
            ("  url: mqtt://127.0.0.1", "  url: ftp://127.0.0.1"),
            ("    sensor: level", "    sensor: level\n    sensor: usage\n    id: water"),
        ],
        "cfg.yaml:4:8: mqtt.url: unsupported scheme 'ftp' (expected mqtt://host[:port] or mqtts://host[:port])",
        "cfg.yaml:12:5: slots[0].sensor: duplicate key 'sensor' (first given at line 11)",
        "cfg.yaml:13:5: slots[0].id: duplicate key 'id' (first given at line 10)"),
        ConfigMistake("section left empty", replacing: [("  url: mqtt://127.0.0.1", "")],
                      "cfg.yaml:3:6: mqtt: expected a mapping, got nothing"),
        ConfigMistake("a slot that is not a mapping", "    source: {driver: simulated}",
                      "    source: {driver: simulated}\n  - water",
                      "cfg.yaml:15:5: slots[1]: expected a mapping, got 'water'"),
        ConfigMistake("top level is not a mapping", yaml: "replenishd\n",
                      ["cfg.yaml:1:1: expected a mapping, got 'replenishd'"]),
        ConfigMistake("empty file", yaml: "# nothing here\n",
                      ["cfg.yaml:1:1: the file is empty; expected the sections device, mqtt, storage, report, slots"]),
        ConfigMistake("several mistakes are reported together in file order", replacing: [
            ("  id: cm-000123", "  id: cm/000123"),
            ("  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1:0"),
            ("    capacity: 1.8", "    capacity: -3"),
            ("    source: {driver: simulated}", "    source: {driver: gpio}"),
            ("  daily_at: 3:00", "  every: 1h"),
        ],
        "cfg.yaml:2:7: device.id: a device id must not contain '/' (it is one MQTT topic level), got 'cm/000123'",
        "cfg.yaml:4:8: mqtt.url: expected a port from 1 to 65535, got '0'",
        "cfg.yaml:8:3: report: missing required key 'daily_at'",
        "cfg.yaml:13:15: slots[0].capacity: expected a positive number, got -3",
        "cfg.yaml:14:22: slots[0].source.driver: unknown driver 'gpio' (known drivers: simulated, gpio-pulse-counter, gpio-switch-ladder, gpio-presence, hx711, ads1115, max17048, i2c-register)"),
    ]
}
