import Foundation
import ReplenishCore
import Yams

// The `device`, `mqtt`, `storage` and `report` sections.

extension ConfigReader {
    mutating func deviceSettings(_ node: Node, at path: ConfigKeyPath) -> DeviceSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["id", "timezone", "has_rtc"]) else { return nil }
        var timeZone: String?
        if let value = fields.optional("timezone"), let name = string(value, at: path.appending("timezone")) {
            if LocalZone(identifier: name) == nil {
                report("unknown time zone '\(name)' (expected an IANA name such as 'Europe/Berlin')",
                       at: value, path.appending("timezone"))
            } else {
                timeZone = name
            }
        }
        let hasRTC = fields.optional("has_rtc").flatMap { bool($0, at: path.appending("has_rtc")) }
        guard let idNode = required("id", in: fields), let id = string(idNode, at: path.appending("id")) else {
            return nil
        }
        if let problem = TopicRules.deviceIDProblem(id) {
            report(problem, at: idNode, path.appending("id"))
            return nil
        }
        return DeviceSettings(id: id, timeZone: timeZone, hasRTC: hasRTC ?? false)
    }

    /// `deviceID` fills the defaults of `base_topic` and `client_id`; nil when the device section failed.
    mutating func mqttSettings(_ node: Node, at path: ConfigKeyPath, deviceID: String?) -> MQTTSettings? {
        let allowed = ["url", "base_topic", "client_id", "keepalive", "username", "password_file",
                       "reconnect_min", "reconnect_max", "max_message_size"] + Self.tlsKeys + ["allow_insecure"]
        guard let fields = fields(of: node, at: path, allowed: allowed) else { return nil }
        var failed = false
        var url: BrokerURL?
        let urlNode = required("url", in: fields)
        if let urlNode, let text = string(urlNode, at: path.appending("url")) {
            switch BrokerURL.parse(text) {
            case let .success(parsed): url = parsed
            case let .failure(problem): report(problem.message, at: urlNode, path.appending("url"))
            }
        }
        var baseTopic = deviceID.map { "replenish/v1/\($0)" }
        if let value = fields.optional("base_topic") {
            baseTopic = string(value, at: path.appending("base_topic"))
            if let topic = baseTopic, let problem = TopicRules.baseTopicProblem(topic) {
                report(problem, at: value, path.appending("base_topic"))
                baseTopic = nil
            }
            failed = failed || baseTopic == nil
        }
        var clientID = deviceID
        if let value = fields.optional("client_id") {
            clientID = string(value, at: path.appending("client_id"))
            if let id = clientID, let problem = TopicRules.clientIDProblem(id) {
                report(problem, at: value, path.appending("client_id"))
                clientID = nil
            }
            failed = failed || clientID == nil
        }
        var keepAlive = 60
        if let value = fields.optional("keepalive") {
            let seconds = duration(value, at: path.appending("keepalive"), in: ConfigRanges.keepalive)
            if let seconds, seconds != seconds.rounded() {
                report("expected a whole number of seconds, got '\(value.scalar?.string ?? "")'", at: value,
                       path.appending("keepalive"))
                failed = true
            } else if let seconds {
                keepAlive = Int(seconds)
            } else {
                failed = true
            }
        }
        let username = optionalString("username", in: fields, failed: &failed)
        let passwordFile = optionalString("password_file", in: fields, failed: &failed)
        if passwordFile != nil, fields.optional("username") == nil, let entry = fields.entry("password_file") {
            // libmosquitto takes a password only with a user name: without one it refuses to connect.
            report("password_file needs username (MQTT sends a password only with a user name)",
                   at: entry.key, path.appending("password_file"))
            failed = true
        }
        var reconnect = (min: 0.5, max: 30.0)
        if let value = fields.optional("reconnect_min") {
            let seconds = duration(value, at: path.appending("reconnect_min"), in: ConfigRanges.reconnectMin)
            reconnect.min = seconds ?? 0
            failed = failed || seconds == nil
        }
        if let value = fields.optional("reconnect_max") {
            let seconds = duration(value, at: path.appending("reconnect_max"), in: ConfigRanges.reconnectMax)
            reconnect.max = seconds ?? 0
            failed = failed || seconds == nil
            if let seconds, seconds < reconnect.min {
                report("expected a duration at least reconnect_min (\(Self.seconds(reconnect.min))), got '\(value.scalar?.string ?? "")'",
                       at: value, path.appending("reconnect_max"))
                failed = true
            }
        }
        var maxMessageBytes = MQTTSettings.defaultMaxMessageBytes
        if let value = fields.optional("max_message_size") {
            let bytes = size(value, at: path.appending("max_message_size"), in: ConfigRanges.maxMessageSize)
            maxMessageBytes = bytes ?? 0
            failed = failed || bytes == nil
        }
        let caFile = optionalString("ca_file", in: fields, failed: &failed)
        let caDirectory = optionalString("ca_dir", in: fields, failed: &failed)
        let certFile = optionalString("cert_file", in: fields, failed: &failed)
        let keyFile = optionalString("key_file", in: fields, failed: &failed)
        var alpn: String?
        if let value = fields.optional("alpn") {
            alpn = alpnProtocol(value, at: path.appending("alpn"))
            failed = failed || alpn == nil
        }
        var allowInsecure = false
        if let value = fields.optional("allow_insecure") {
            let flag = bool(value, at: path.appending("allow_insecure"))
            allowInsecure = flag ?? true  // already reported: do not pile a plaintext refusal on top
            failed = failed || flag == nil
        }
        if let url, let urlNode {
            failed = !transportIsSound(url, urlNode: urlNode, fields: fields, allowInsecure: allowInsecure) || failed
        }
        guard !failed, let url, let baseTopic, let clientID else { return nil }
        var settings = MQTTSettings(url: url, baseTopic: baseTopic, clientID: clientID, keepAliveSeconds: keepAlive,
                                    username: username, passwordFile: passwordFile,
                                    caFile: caFile, caDirectory: caDirectory, certFile: certFile, keyFile: keyFile,
                                    alpn: alpn, allowInsecure: allowInsecure)
        settings.reconnectDelayMin = reconnect.min
        settings.reconnectDelayMax = reconnect.max
        settings.maxMessageBytes = maxMessageBytes
        return settings
    }

    static let tlsKeys = ["ca_file", "ca_dir", "cert_file", "key_file", "alpn"]

    /// The rules between `url` and the TLS keys: mqtts:// verifies the broker against a CA,
    /// a client certificate comes with its key, TLS keys need mqtts://, and plaintext leaves
    /// the board only when `allow_insecure: true` says so.
    private mutating func transportIsSound(_ url: BrokerURL, urlNode: Node, fields: ConfigFields,
                                           allowInsecure: Bool) -> Bool {
        let path = fields.path
        let given = Self.tlsKeys.compactMap { key in fields.entry(key).map { (key: key, entry: $0) } }
            .filter { !$0.entry.value.isNull }
        guard url.tls else {
            var sound = true
            if let first = given.min(by: { ($0.entry.key.mark?.line ?? 0) < ($1.entry.key.mark?.line ?? 0) }) {
                report("TLS settings need an mqtts:// url (mqtt.url is \(url))", at: first.entry.key,
                       path.appending(first.key))
                sound = false
            }
            if !url.isLoopback, !allowInsecure {
                report("plaintext MQTT to '\(url.host)' is refused; use mqtts:// or set mqtt.allow_insecure: true",
                       at: urlNode, path.appending("url"))
                sound = false
            }
            return sound
        }
        var sound = true
        if fields.optional("ca_file") == nil, fields.optional("ca_dir") == nil {
            report("mqtts:// needs ca_file or ca_dir to verify the broker's certificate", at: urlNode, path.appending("url"))
            sound = false
        }
        func present(_ key: String) -> ConfigFields.Entry? { fields.optional(key) == nil ? nil : fields.entry(key) }
        switch (present("cert_file"), present("key_file")) {
        case let (cert?, nil):
            report("cert_file needs key_file (the client certificate's private key)", at: cert.key, path.appending("cert_file"))
            sound = false
        case let (nil, key?):
            report("key_file needs cert_file (the client certificate)", at: key.key, path.appending("key_file"))
            sound = false
        default:
            break
        }
        return sound
    }

    /// One protocol name, as a string or a list of one: libmosquitto 2.0 offers a single ALPN protocol.
    private mutating func alpnProtocol(_ node: Node, at path: ConfigKeyPath) -> String? {
        let names: [Node]
        if case .sequence = node {
            guard let elements = sequence(node, at: path) else { return nil }
            guard elements.count == 1 else {
                report("expected one ALPN protocol (libmosquitto offers a single one), got \(elements.count)", at: node, path)
                return nil
            }
            names = elements
        } else {
            names = [node]
        }
        guard let name = string(names[0], at: path) else { return nil }
        guard (1...255).contains(name.utf8.count) else {
            report("expected an ALPN protocol name of 1 to 255 bytes, got '\(name)'", at: names[0], path)
            return nil
        }
        return name
    }

    mutating func storageSettings(_ node: Node, at path: ConfigKeyPath) -> StorageSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["path", "outbox_limit", "flush_interval"]) else {
            return nil
        }
        var failed = false
        var file = required("path", in: fields).flatMap { string($0, at: path.appending("path")) }
        if let text = file, let node = fields.optional("path") ?? fields.entry("path")?.value, !text.hasPrefix("/") {
            // The daemon's working directory is not part of its configuration.
            report(text.isEmpty ? "expected an absolute path to the database file, got an empty string"
                                : "expected an absolute path to the database file, got '\(text)'",
                   at: node, path.appending("path"))
            file = nil
        }
        var settings = StorageSettings(path: file ?? "")
        if let value = fields.optional("outbox_limit") {
            let bytes = size(value, at: path.appending("outbox_limit"), in: ConfigRanges.outboxLimit)
            settings.outboxLimitBytes = bytes ?? 0
            failed = failed || bytes == nil
        }
        if let value = fields.optional("flush_interval") {
            let seconds = duration(value, at: path.appending("flush_interval"), in: ConfigRanges.flushInterval)
            settings.flushIntervalSeconds = seconds ?? 0
            failed = failed || seconds == nil
        }
        return failed || file == nil ? nil : settings
    }

    mutating func reportSettings(_ node: Node, at path: ConfigKeyPath) -> ReportSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["daily_at", "every", "on_start"]) else { return nil }
        var failed = false
        var dailyAt: TimeOfDay?
        if let value = required("daily_at", in: fields) {
            // The raw text, so that an unquoted 3:00 (a YAML 1.1 sexagesimal number) still reads as a time.
            if case let .scalar(scalar) = value, let time = TimeOfDay(parsing: scalar.string) {
                dailyAt = time
            } else {
                report("expected a time of day as \"HH:MM\", got \(value.summary)", at: value, path.appending("daily_at"))
            }
        }
        var every: Double?
        if let value = fields.optional("every") {
            every = duration(value, at: path.appending("every"), in: ConfigRanges.reportEvery)
            failed = failed || every == nil
        }
        var onStart = true
        if let value = fields.optional("on_start") {
            let flag = bool(value, at: path.appending("on_start"))
            onStart = flag ?? true
            failed = failed || flag == nil
        }
        guard !failed, let dailyAt else { return nil }
        return ReportSettings(dailyAt: dailyAt, everySeconds: every, onStart: onStart)
    }

    private mutating func optionalString(_ key: String, in fields: ConfigFields, failed: inout Bool) -> String? {
        guard let value = fields.optional(key) else { return nil }
        let text = string(value, at: fields.path.appending(key))
        failed = failed || text == nil
        return text
    }
}
