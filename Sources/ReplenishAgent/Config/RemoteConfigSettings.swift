/// `remote_config:` section: how the daemon guards a connection change the cloud asks for.
public struct RemoteConfigSettings: Sendable, Equatable {
    /// Key `confirm_within` (default 5m): a connection change (`mqtt.*` from the cloud) is
    /// tentative until the device has connected with it and seen its own `{base}/state` come back;
    /// not within this time, it goes back to the last configuration that connected.
    public var confirmWithinSeconds: Double = 300

    public init() {}

    /// Long enough for a connect with backoff and a TLS handshake, short enough that a fleet is not off for long.
    static let confirmWithin = DurationRange(minimum: 1, maximum: 86_400)
}

extension ConfigReader {
    mutating func remoteConfigSettings(_ node: Node, at path: ConfigKeyPath) -> RemoteConfigSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["confirm_within"]) else { return nil }
        var settings = RemoteConfigSettings()
        var failed = false
        decode("confirm_within", in: fields, into: &settings.confirmWithinSeconds, failed: &failed) {
            $0.duration($1, at: $2, in: RemoteConfigSettings.confirmWithin)
        }
        return failed ? nil : settings
    }
}
