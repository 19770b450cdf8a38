import FoundationEssentials

/// Whether wall-clock time can be trusted (synchronized, or an RTC the config vouches for).
public enum ClockStatus: String, Sendable, Codable {
    case synchronized
    case unsynchronized
}

/// The fields every outgoing message carries, so the cloud can drop redelivered copies and see gaps.
public struct MessageHeader: Sendable, Equatable {
    public var schema: String
    public var deviceId: String
    /// Per device, persisted, strictly increasing across restarts.
    public var seq: UInt64
    public var generatedAt: Date
    public var clock: ClockStatus
    public var agentVersion: String
    public var configHash: String

    public init(schema: String, deviceId: String, seq: UInt64, generatedAt: Date, clock: ClockStatus,
                agentVersion: String, configHash: String) {
        self.schema = schema
        self.deviceId = deviceId
        self.seq = seq
        self.generatedAt = generatedAt
        self.clock = clock
        self.agentVersion = agentVersion
        self.configHash = configHash
    }

    /// `{deviceId}-{seq}`.
    public var messageId: String { "\(deviceId)-\(seq)" }

    public func encode(into container: inout KeyedEncodingContainer<JSONKey>) throws {
        try container.encode(schema, forKey: "schema")
        try container.encode(messageId, forKey: "messageId")
        try container.encode(seq, forKey: "seq")
        try container.encode(deviceId, forKey: "deviceId")
        try container.encode(Timestamp.string(generatedAt), forKey: "generatedAt")
        try container.encode(clock, forKey: "clock")
        try container.encode(agentVersion, forKey: "agentVersion")
        try container.encode(configHash, forKey: "configHash")
    }
}

/// A coding key made from any string, for JSON whose field names are the contract.
public struct JSONKey: CodingKey, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int? { nil }
    public init(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { nil }
    public init(stringLiteral value: String) { self.stringValue = value }
}

/// ISO 8601 timestamps in UTC, the form Dash Replenishment and Alexa take.
public enum Timestamp {
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt))
    }

    public static func parse(_ text: String) -> Date? {
        try? Date.ISO8601FormatStyle(includingFractionalSeconds: false, timeZone: .gmt).parse(text)
    }
}

/// Rounds a quantity for the wire: three decimals, no binary noise such as 0.30000000000000004.
func wireQuantity(_ value: Double) -> Double {
    (value * 1000).rounded() / 1000
}

/// The one JSON encoding of every message.
enum WireJSON {
    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(value))
    }
}
