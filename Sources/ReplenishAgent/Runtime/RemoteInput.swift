import FoundationEssentials

/// What the broker connection passes to the supervisor about remote configuration.
enum RemoteInput: Sendable {
    /// A document on `{base}/config/desired`.
    case desired([UInt8])
    /// The device's own `{base}/state` came back, published under this configuration.
    case stateSeen(configHash: String)
    /// The connection of a tentative configuration is up (its state round trip is next).
    case connected

    private struct StateHeader: Decodable {
        let configHash: String
    }

    /// The `configHash` of a `{base}/state` payload; nil for anything else.
    static func configHash(ofState payload: [UInt8]) -> String? {
        (try? JSONDecoder().decode(StateHeader.self, from: Data(payload)))?.configHash
    }
}
