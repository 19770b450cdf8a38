import Foundation

/// The commands the cloud may send on `{base}/commands/{name}`.
public enum CommandName: String, Sendable, CaseIterable {
    case reportNow
    case orderPlaced
    case orderShipped
    case orderCancelled
    case deregistered
    case registered
    case subscriptionChanged
    case inventoryAdjust
}

/// A decoded, validated command.
public struct CommandRequest: Sendable, Equatable {
    public var name: CommandName
    public var correlationId: String

    public init(name: CommandName, correlationId: String) {
        self.name = name
        self.correlationId = correlationId
    }
}

/// Why a command was refused; answered on `{base}/replies` and logged.
public struct CommandRejection: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request's correlationId when one could be read.
    public var correlationId: String?
    /// The command name as received (cut to a printable, bounded form).
    public var command: String
    public var reason: String

    public init(correlationId: String?, command: String, reason: String) {
        self.correlationId = correlationId
        self.command = command
        self.reason = reason
    }

    public var description: String { "\(command) rejected: \(reason)" }
}

/// Strict decoding of command payloads: bounded size, a JSON object, known fields of the right types.
public enum CommandDecoder {
    /// Larger payloads are refused before parsing.
    public static let maxPayloadBytes = 4096
    /// Longest accepted correlationId, in bytes.
    public static let maxCorrelationIdBytes = 128

    /// Decodes the command named by the last topic level from its payload.
    public static func decode(name rawName: String, payload: [UInt8]) -> Result<CommandRequest, CommandRejection> {
        let shownName = printable(rawName, limit: 64)
        func reject(_ reason: String, _ correlationId: String? = nil) -> Result<CommandRequest, CommandRejection> {
            .failure(CommandRejection(correlationId: correlationId, command: shownName, reason: reason))
        }
        guard let name = CommandName(rawValue: rawName) else {
            return reject("unknown command '\(shownName)' (known: \(CommandName.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        guard payload.count <= maxPayloadBytes else {
            return reject("payload of \(payload.count) bytes exceeds the limit of \(maxPayloadBytes)")
        }
        guard String(validating: payload, as: UTF8.self) != nil else {
            return reject("payload is not UTF-8")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: Data(payload), options: .fragmentsAllowed)
                as? [String: Any] else {
                return reject("expected a JSON object")
            }
            object = parsed
        } catch {
            return reject("invalid JSON")
        }

        let correlationId: String
        switch object["correlationId"] {
        case nil:
            return reject("missing correlationId")
        case let value as String:
            guard !value.isEmpty, value.utf8.count <= maxCorrelationIdBytes,
                  value.unicodeScalars.allSatisfy({ !$0.properties.generalCategory.isControl }) else {
                return reject("correlationId must be 1 to \(maxCorrelationIdBytes) bytes of printable text")
            }
            correlationId = value
        default:
            return reject("correlationId must be a string")
        }

        let allowed: Set<String> = ["correlationId"]
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            return reject("unknown field '\(printable(unknown, limit: 64))'", correlationId)
        }
        switch name {
        case .reportNow:
            return .success(CommandRequest(name: name, correlationId: correlationId))
        case .orderPlaced, .orderShipped, .orderCancelled, .deregistered, .registered, .subscriptionChanged,
             .inventoryAdjust:
            return reject("\(name.rawValue) is not supported by this agent version", correlationId)
        }
    }

    /// Text safe to echo back and log: control characters replaced, length bounded.
    static func printable(_ text: String, limit: Int) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.properties.generalCategory.isControl ? "?" : Character($0) })
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "…" : cleaned
    }
}

private extension Unicode.GeneralCategory {
    var isControl: Bool { self == .control || self == .format || self == .lineSeparator || self == .paragraphSeparator }
}

/// `replenish.reply/1`: the answer to one command, on `{base}/replies`.
public struct CommandReply: Sendable, Equatable, Encodable {
    public static let schema = "replenish.reply/1"

    public enum Status: String, Sendable, Encodable {
        case ok
        case rejected
    }

    public var header: MessageHeader
    public var correlationId: String?
    public var command: String
    public var status: Status
    public var error: String?

    public init(header: MessageHeader, correlationId: String?, command: String, status: Status, error: String?) {
        self.header = header
        self.correlationId = correlationId
        self.command = command
        self.status = status
        self.error = error
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try header.encode(into: &c)
        try c.encode(correlationId, forKey: "correlationId")
        try c.encode(command, forKey: "command")
        try c.encode(status, forKey: "status")
        try c.encode(error, forKey: "error")
    }

    /// The JSON payload.
    public func json() throws -> [UInt8] { try WireJSON.encode(self) }
}
