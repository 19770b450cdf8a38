/// What MQTT allows in the names that become topic levels and client ids; each check returns why
/// a name is rejected, or nil when it is fine.
enum TopicRules {
    /// Device ids are one topic level: 1...128 bytes, no `/ + #`, no NUL, no whitespace.
    static func deviceIDProblem(_ id: String) -> String? {
        if id.isEmpty { return "expected a device id, got an empty string" }
        if id.utf8.count > 128 { return "expected a device id of at most 128 bytes, got \(id.utf8.count) bytes" }
        if let c = id.first(where: { "/+#".contains($0) }) {
            return "a device id must not contain '\(c)' (it is one MQTT topic level), got '\(id)'"
        }
        if let problem = invisibleCharacterProblem(id, what: "a device id") { return problem }
        if id.unicodeScalars.contains(where: { $0.properties.isWhitespace }) {
            return "a device id must not contain whitespace, NUL or control characters, got '\(id)'"
        }
        return nil
    }

    /// What every topic we publish to must be (`what` names it): not empty, not `$...` (brokers
    /// reserve those topics and silently deny publishes there), no wildcards, no NUL, no control
    /// or format characters.
    static func publishTopicProblem(_ topic: String, what: String) -> String? {
        if topic.isEmpty { return "expected a topic, got an empty string" }
        if topic.hasPrefix("$") {
            return "\(what) must not begin with '$' (brokers reserve $-topics such as $SYS and drop our publishes), got '\(topic)'"
        }
        if let c = topic.first(where: { $0 == "+" || $0 == "#" }) {
            return "\(what) must not contain the wildcard '\(c)', got '\(topic)'"
        }
        if topic.unicodeScalars.contains(where: { $0.value == 0 }) {
            return "\(what) must not contain NUL"
        }
        return invisibleCharacterProblem(topic, what: what)
    }

    /// Base topics are a publish prefix: a publish topic (`publishTopicProblem`) without empty levels.
    static func baseTopicProblem(_ topic: String) -> String? {
        if let problem = publishTopicProblem(topic, what: "a base topic") { return problem }
        if topic.hasPrefix("/") || topic.hasSuffix("/") {
            return "a base topic must not start or end with '/', got '\(topic)'"
        }
        if topic.contains("//") { return "a base topic must not have empty levels ('//'), got '\(topic)'" }
        return nil  // its length, with the levels below it, is the broker's (`topicProblem`)
    }

    /// Client ids: 1 byte up to the broker's limit (AWS IoT Core: 128), no wildcards (an ACL or an
    /// IoT policy names the client id in a pattern), no control or format characters.
    static func clientIDProblem(_ id: String, limits: BrokerLimits) -> String? {
        if id.isEmpty { return "expected a non-empty client id" }
        if id.utf8.count > limits.clientIDBytes {
            return "\(limits.owner) takes client ids of at most \(limits.clientIDBytes) bytes, got \(id.utf8.count) bytes"
        }
        if let c = id.first(where: { $0 == "+" || $0 == "#" }) {
            return "a client id must not contain the wildcard '\(c)', got '\(id)'"
        }
        return invisibleCharacterProblem(id, what: "a client id")
    }

    /// Control, format (bidirectional overrides, zero-width joiners) and line/paragraph separators
    /// (Unicode categories Cc, Cf, Zl, Zp): they make a name print as something it is not.
    static func invisibleCharacterProblem(_ text: String, what: String) -> String? {
        let invisible: Set<Unicode.GeneralCategory> = [.control, .format, .lineSeparator, .paragraphSeparator]
        guard let scalar = text.unicodeScalars.first(where: { invisible.contains($0.properties.generalCategory) }) else {
            return nil
        }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        return "\(what) must not contain control or format characters (found \(code))"
    }
}
