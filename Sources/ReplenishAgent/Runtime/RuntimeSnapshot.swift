import FoundationEssentials
import ReplenishCore

/// What the running daemon last knew about itself, kept in the state database (value
/// `runtime`) so `replenishd status` can show it from a read-only connection. Written when the
/// broker connection or a slot's health changes, and at start and stop; never on the sensor
/// hot path.
public struct RuntimeSnapshot: Codable, Sendable, Equatable {
    /// The store value key.
    public static let key = "runtime"

    /// The broker connection as the daemon saw it.
    public struct Broker: Codable, Sendable, Equatable {
        /// The broker URL without credentials.
        public var url: String
        public var connected: Bool
        /// When `connected` last changed (or the daemon started).
        public var since: Date
        /// Why the last connection ended or failed, if it did.
        public var lastError: String?

        public init(url: String, connected: Bool, since: Date, lastError: String? = nil) {
            self.url = url
            self.connected = connected
            self.since = since
            self.lastError = lastError
        }
    }

    /// Publishes the broker refused (MQTT 5 PUBACK reason codes of 0x80 and above) since the
    /// daemon started: their rows stay in the outbox.
    public struct Refusals: Codable, Sendable, Equatable {
        public var count: UInt64
        public var lastSeq: UInt64
        public var lastReason: String
        public var lastAt: Date
    }

    /// The daemon's process id; `running` false once it stopped cleanly.
    public var pid: Int32
    public var running: Bool
    public var startedAt: Date
    /// When this snapshot was written.
    public var updatedAt: Date
    public var broker: Broker
    /// Each slot's sensor health (`SlotHealth` raw values), as last judged.
    public var health: [String: String]
    /// The configuration the daemon runs (nil from versions before it was recorded): how
    /// `replenishd reload` learns that a reload took.
    public var configHash: String?
    /// Nil until the broker refuses a publish (and in snapshots of versions before it was recorded).
    public var refused: Refusals?

    public init(pid: Int32, running: Bool, startedAt: Date, updatedAt: Date, broker: Broker, health: [String: String],
                configHash: String? = nil) {
        self.configHash = configHash
        self.pid = pid
        self.running = running
        self.startedAt = startedAt
        self.updatedAt = updatedAt
        self.broker = broker
        self.health = health
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = .sortedKeys
        return Array(try encoder.encode(self))
    }

    public static func decode(_ blob: [UInt8]) throws -> RuntimeSnapshot {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(RuntimeSnapshot.self, from: Data(blob))
    }
}
