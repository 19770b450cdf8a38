import FoundationEssentials
import ReplenishCore

// The `device`, `mqtt`, `storage` and `report` sections.

extension ConfigReader {
    mutating func deviceSettings(_ node: Node, at path: ConfigKeyPath) -> DeviceSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["id", "timezone", "has_rtc", "alexa_endpoint_id"])
        else { return nil }
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
        let endpointID = fields.optional("alexa_endpoint_id").flatMap {
            string($0, at: path.appending("alexa_endpoint_id"), checkedBy: AlexaDiscovery.endpointIDProblem)
        }
        guard let idNode = required("id", in: fields), let id = string(idNode, at: path.appending("id")) else {
            return nil
        }
        if let problem = TopicRules.deviceIDProblem(id) {
            report(problem, at: idNode, path.appending("id"))
            return nil
        }
        // Every status report addresses Alexa messages to the endpoint id, the device id by default.
        if fields.optional("alexa_endpoint_id") == nil, let problem = AlexaDiscovery.endpointIDProblem(id) {
            report("\(problem) (the Alexa endpointId of every report, unless device.alexa_endpoint_id is set): "
                   + "set device.alexa_endpoint_id", at: idNode, path.appending("id"))
            return nil
        }
        return DeviceSettings(id: id, timeZone: timeZone, hasRTC: hasRTC ?? false, alexaEndpointID: endpointID)
    }

    /// `deviceID` fills the defaults of `base_topic` and `client_id`; nil when the device section failed.
    mutating func mqttSettings(_ node: Node, at path: ConfigKeyPath, deviceID: String?) -> MQTTSettings? {
        let allowed = ["url", "base_topic", "client_id", "keepalive", "username", "password_file",
                       "reconnect_min", "reconnect_max", "max_message_size"] + Self.tlsKeys + ["allow_insecure", "broker", "retain",
                                                                                           "max_publish_rate", "ack_timeout",
                                                                                           "protocol", "session_expiry"]
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
        // What is not given keeps MQTTSettings' default; base_topic and client_id default to the device id.
        var settings = MQTTSettings(url: url ?? BrokerURL(tls: false, host: "", port: 0),
                                    baseTopic: deviceID.map { "replenish/v1/\($0)" } ?? "", clientID: deviceID ?? "")
        settings.broker = url.map { MQTTSettings.Broker.detected(host: $0.host) } ?? .generic
        decode("broker", in: fields, into: &settings.broker, failed: &failed) {
            $0.choice($1, at: $2, of: MQTTSettings.Broker.allCases)
        }
        let limits = settings.broker.limits
        if decode("base_topic", in: fields, into: &settings.baseTopic, failed: &failed, {
            $0.checkedString($1, at: $2, TopicRules.baseTopicProblem)
        }), let node = fields.optional("base_topic"),
           let problem = TopicRules.topicProblem(base: settings.baseTopic, limits: limits) {
            // The default (replenish/v1/ and a device id of at most 128 bytes) fits every profile.
            report(problem, at: node, path.appending("base_topic"))
            failed = true
        }
        decode("client_id", in: fields, into: &settings.clientID, failed: &failed) {
            $0.checkedString($1, at: $2) { TopicRules.clientIDProblem($0, limits: limits) }
        }
        if decode("keepalive", in: fields, into: &settings.keepAliveSeconds, failed: &failed, {
            $0.wholeSeconds($1, at: $2, in: ConfigRanges.keepalive)
        }), !limits.keepalive.contains(Double(settings.keepAliveSeconds)) {
            outsideProfile("keepalive", in: fields, limits: limits, "a keepalive \(Self.describe(limits.keepalive))", failed: &failed)
        }
        settings.username = optionalString("username", in: fields, failed: &failed)
        settings.passwordFile = optionalString("password_file", in: fields, failed: &failed)
        if settings.passwordFile != nil, fields.optional("username") == nil, let entry = fields.entry("password_file") {
            // libmosquitto takes a password only with a user name: without one it refuses to connect.
            report("password_file needs username (MQTT sends a password only with a user name)",
                   at: entry.key, path.appending("password_file"))
            failed = true
        }
        let minimumRead = decode("reconnect_min", in: fields, into: &settings.reconnectDelayMin, failed: &failed) {
            $0.duration($1, at: $2, in: ConfigRanges.reconnectMin)
        }
        if minimumRead, !limits.reconnectMin.contains(settings.reconnectDelayMin) {
            outsideProfile("reconnect_min", in: fields, limits: limits,
                           "a reconnect_min \(Self.describe(limits.reconnectMin)) (one connect per second)", failed: &failed)
        }
        let minimum = settings.reconnectDelayMin
        decode("reconnect_max", in: fields, into: &settings.reconnectDelayMax, failed: &failed) { reader, value, path in
            guard let seconds = reader.duration(value, at: path, in: ConfigRanges.reconnectMax) else { return nil }
            guard !minimumRead || seconds >= minimum else {
                reader.report("expected a duration at least reconnect_min (\(Self.seconds(minimum))), "
                              + "got '\(value.scalar?.string ?? "")'", at: value, path)
                return nil
            }
            return seconds
        }
        if decode("max_message_size", in: fields, into: &settings.maxMessageBytes, failed: &failed, {
            $0.size($1, at: $2, in: ConfigRanges.maxMessageSize)
        }), settings.maxMessageBytes > limits.maxMessageSize.maximum {
            outsideProfile("max_message_size", in: fields, limits: limits,
                           "messages of at most \(Self.bytes(limits.maxMessageSize.maximum))", failed: &failed)
        }
        decode("retain", in: fields, into: &settings.retain, failed: &failed) { $0.bool($1, at: $2) }
        settings.maxPublishRate = limits.defaultPublishRate
        if decode("max_publish_rate", in: fields, into: &settings.maxPublishRate, failed: &failed, {
            $0.rate($1, at: $2, in: ConfigRanges.publishRate)
        }), let most = limits.maxPublishRate, let rate = settings.maxPublishRate, rate > most {
            outsideProfile("max_publish_rate", in: fields, limits: limits,
                           "at most \(Self.number(most)) publishes per second", failed: &failed)
        }
        decode("ack_timeout", in: fields, into: &settings.ackTimeoutSeconds, failed: &failed) {
            $0.duration($1, at: $2, in: ConfigRanges.ackTimeout)
        }
        decode("protocol", in: fields, into: &settings.protocolVersion, failed: &failed) {
            $0.choice($1, at: $2, of: MQTTSettings.ProtocolVersion.allCases)
        }
        if decode("session_expiry", in: fields, into: &settings.sessionExpirySeconds, failed: &failed, {
            $0.wholeSeconds($1, at: $2, in: ConfigRanges.sessionExpiry)
        }), fields.optional("session_expiry") != nil {
            if settings.protocolVersion != .v5, let entry = fields.entry("session_expiry") {
                report("session_expiry needs protocol: 5 (under MQTT 3.1.1 the broker decides how long a session lasts)",
                       at: entry.key, path.appending("session_expiry"))
                failed = true
            } else if !limits.sessionExpiry.contains(Double(settings.sessionExpirySeconds)) {
                outsideProfile("session_expiry", in: fields, limits: limits,
                               "a session_expiry \(Self.describe(limits.sessionExpiry))", failed: &failed)
            }
        }
        settings.caFile = optionalString("ca_file", in: fields, failed: &failed)
        settings.caDirectory = optionalString("ca_dir", in: fields, failed: &failed)
        settings.certFile = optionalString("cert_file", in: fields, failed: &failed)
        settings.keyFile = optionalString("key_file", in: fields, failed: &failed)
        if let value = fields.optional("alpn") {
            settings.alpn = alpnProtocol(value, at: path.appending("alpn"))
            failed = failed || settings.alpn == nil
        }
        if let value = fields.optional("allow_insecure") {
            let flag = bool(value, at: path.appending("allow_insecure"))
            settings.allowInsecure = flag ?? true  // already reported: do not pile a plaintext refusal on top
            failed = failed || flag == nil
        }
        if let url, let urlNode {
            failed = !transportIsSound(url, urlNode: urlNode, fields: fields, allowInsecure: settings.allowInsecure) || failed
        }
        guard !failed, url != nil, deviceID != nil || (fields.optional("base_topic") != nil && fields.optional("client_id") != nil)
        else { return nil }
        return settings
    }

    /// The value of `key`, within the general range but not within the broker profile's, reported at the key.
    private mutating func outsideProfile(_ key: String, in fields: ConfigFields, limits: BrokerLimits, _ expected: String,
                                         failed: inout Bool) {
        guard let node = fields.optional(key) else { return }
        report("\(limits.owner) takes \(expected), got '\(node.scalar?.string ?? "")'", at: node, fields.path.appending(key))
        failed = true
    }

    /// A string that `problem` finds nothing wrong with (a topic or a client id).
    private mutating func checkedString(_ node: Node, at path: ConfigKeyPath, _ problem: (String) -> String?) -> String? {
        guard let text = string(node, at: path) else { return nil }
        if let message = problem(text) {
            report(message, at: node, path)
            return nil
        }
        return text
    }

    /// Messages per second within `range`.
    private mutating func rate(_ node: Node, at path: ConfigKeyPath, in range: ClosedRange<Double>) -> Double? {
        guard let value = number(node, at: path) else { return nil }
        guard range.contains(value) else {
            report("expected messages per second from \(Self.number(range.lowerBound)) to \(Self.number(range.upperBound)), "
                   + "got \(node.summary)", at: node, path)
            return nil
        }
        return value
    }

    /// A duration within `range` that is a whole number of seconds.
    private mutating func wholeSeconds(_ node: Node, at path: ConfigKeyPath, in range: DurationRange) -> Int? {
        guard let seconds = duration(node, at: path, in: range) else { return nil }
        guard seconds == seconds.rounded() else {
            report("expected a whole number of seconds, got '\(node.scalar?.string ?? "")'", at: node, path)
            return nil
        }
        return Int(seconds)
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
            if let first = given.min(by: { $0.entry.key.mark.line < $1.entry.key.mark.line }) {
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
        decode("outbox_limit", in: fields, into: &settings.outboxLimitBytes, failed: &failed) {
            $0.size($1, at: $2, in: ConfigRanges.outboxLimit)
        }
        decode("flush_interval", in: fields, into: &settings.flushIntervalSeconds, failed: &failed) {
            $0.duration($1, at: $2, in: ConfigRanges.flushInterval)
        }
        return failed || file == nil ? nil : settings
    }

    /// `protocol` is the mqtt section's, when it could be read: `expire_after` needs MQTT 5.
    mutating func reportSettings(_ node: Node, at path: ConfigKeyPath,
                                 protocol version: MQTTSettings.ProtocolVersion? = nil) -> ReportSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["daily_at", "every", "on_start", "expire_after", "startup_wait"]) else { return nil }
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
        // What is not given keeps ReportSettings' default.
        var settings = ReportSettings(dailyAt: dailyAt ?? TimeOfDay(hour: 0, minute: 0)!)
        if let value = fields.optional("every") {
            settings.everySeconds = duration(value, at: path.appending("every"), in: ConfigRanges.reportEvery)
            failed = failed || settings.everySeconds == nil
        }
        decode("on_start", in: fields, into: &settings.onStart, failed: &failed) { $0.bool($1, at: $2) }
        decode("startup_wait", in: fields, into: &settings.startupWaitSeconds, failed: &failed) {
            $0.duration($1, at: $2, in: ConfigRanges.startupWait)
        }
        if decode("expire_after", in: fields, into: &settings.expireAfterSeconds, failed: &failed, {
            $0.wholeSeconds($1, at: $2, in: ConfigRanges.messageExpiry)
        }), version == .v311, let entry = fields.entry("expire_after") {
            report("expire_after needs mqtt.protocol: 5 (MQTT 3.1.1 has no message expiry)",
                   at: entry.key, path.appending("expire_after"))
            failed = true
        }
        return failed || dailyAt == nil ? nil : settings
    }

    private mutating func optionalString(_ key: String, in fields: ConfigFields, failed: inout Bool) -> String? {
        guard let value = fields.optional(key) else { return nil }
        let text = string(value, at: fields.path.appending(key))
        failed = failed || text == nil
        return text
    }
}
