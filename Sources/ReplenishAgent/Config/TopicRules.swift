/// What MQTT allows in the names that become topic levels; each check returns why a name is
/// rejected, or nil when it is fine.
enum TopicRules {
    /// Device ids are one topic level: 1...128 bytes, no `/ + #`, no NUL, no whitespace.
    static func deviceIDProblem(_ id: String) -> String? {
        if id.isEmpty { return "expected a device id, got an empty string" }
        if id.utf8.count > 128 { return "expected a device id of at most 128 bytes, got \(id.utf8.count) bytes" }
        if let c = id.first(where: { "/+#".contains($0) }) {
            return "a device id must not contain '\(c)' (it is one MQTT topic level), got '\(id)'"
        }
        if id.unicodeScalars.contains(where: { $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7f }) {
            return "a device id must not contain whitespace, NUL or control characters, got '\(id)'"
        }
        return nil
    }

    /// Base topics are a publish prefix: no wildcards, no NUL, no empty levels.
    static func baseTopicProblem(_ topic: String) -> String? {
        if topic.isEmpty { return "expected a topic, got an empty string" }
        if let c = topic.first(where: { $0 == "+" || $0 == "#" }) {
            return "a base topic must not contain the wildcard '\(c)', got '\(topic)'"
        }
        if topic.unicodeScalars.contains(where: { $0.value == 0 }) {
            return "a base topic must not contain NUL"
        }
        if topic.hasPrefix("/") || topic.hasSuffix("/") {
            return "a base topic must not start or end with '/', got '\(topic)'"
        }
        if topic.contains("//") { return "a base topic must not have empty levels ('//'), got '\(topic)'" }
        if topic.utf8.count > 65_535 - 64 { return "expected a base topic shorter than 65471 bytes" }
        return nil
    }
}
