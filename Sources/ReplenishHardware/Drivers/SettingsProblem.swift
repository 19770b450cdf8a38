/// A driver setting that cannot work: the YAML key it names and what was expected. The config
/// reader reports it at that key's position; `description` is "key: message".
public struct SettingsProblem: Sendable, Equatable, CustomStringConvertible {
    /// The key under the slot's `source:` (e.g. `ready_timeout`).
    public var key: String
    public var message: String

    public init(_ key: String, _ message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
}
