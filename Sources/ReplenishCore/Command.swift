import FoundationEssentials

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

/// A decoded, validated command with its arguments. Quantities are in the slot's measurement unit.
public enum Command: Sendable, Equatable {
    case reportNow
    case orderPlaced(slot: String, orderId: String, quantity: Double?, unit: String?, asin: String?,
                     estimatedDelivery: Date?)
    case orderShipped(slot: String, orderId: String, quantity: Double, estimatedDelivery: Date?)
    case orderCancelled(slot: String, orderId: String)
    /// `slot` nil: every slot (Amazon deregisters a whole device).
    case deregistered(slot: String?)
    /// `slot` nil: every slot.
    case registered(slot: String?)
    case subscriptionChanged(slot: String, subscribed: Bool)
    /// `onHand` replaces `totalQuantityOnHand`; `remaining` is set on the slot's ledger. At least one is given.
    case inventoryAdjust(slot: String, onHand: Double?, remaining: Double?)

    public var name: CommandName {
        switch self {
        case .reportNow: .reportNow
        case .orderPlaced: .orderPlaced
        case .orderShipped: .orderShipped
        case .orderCancelled: .orderCancelled
        case .deregistered: .deregistered
        case .registered: .registered
        case .subscriptionChanged: .subscriptionChanged
        case .inventoryAdjust: .inventoryAdjust
        }
    }

    /// The slot the command is for; nil for `reportNow` and for device-wide (de)registrations.
    public var slot: String? {
        switch self {
        case .reportNow: nil
        case .orderPlaced(let slot, _, _, _, _, _), .orderShipped(let slot, _, _, _), .orderCancelled(let slot, _),
             .subscriptionChanged(let slot, _), .inventoryAdjust(let slot, _, _):
            slot
        case .deregistered(let slot), .registered(let slot):
            slot
        }
    }
}

/// A decoded, validated command.
public struct CommandRequest: Sendable, Equatable {
    public var correlationId: String
    public var command: Command

    public var name: CommandName { command.name }

    public init(correlationId: String, command: Command) {
        self.correlationId = correlationId
        self.command = command
    }
}

/// Strict decoding of command payloads: bounded size, a JSON object, known fields of the right types.
///
/// Strict on purpose, also for the order commands: Amazon's SNS notifications carry fields to be
/// ignored, but the maker's cloud translates them into this contract, and an unknown field here
/// means a cloud built against another contract version, which must hear about it, not be half obeyed.
public enum CommandDecoder {
    /// Larger payloads are refused before parsing.
    public static let maxPayloadBytes = 4096
    /// Longest accepted correlationId, in bytes.
    public static let maxCorrelationIdBytes = 128
    /// Longest accepted orderId, in bytes.
    public static let maxOrderIdBytes = 128
    /// Longest accepted slot, unit or asin, in bytes.
    public static let maxNameBytes = 64

    /// The fields each command takes besides `correlationId`.
    public static func fields(of name: CommandName) -> [String] {
        switch name {
        case .reportNow: []
        case .orderPlaced: ["slot", "orderId", "quantity", "unit", "asin", "estimatedDeliveryDate"]
        case .orderShipped: ["slot", "orderId", "quantity", "estimatedDeliveryDate"]
        case .orderCancelled: ["slot", "orderId"]
        case .deregistered, .registered: ["slot"]
        case .subscriptionChanged: ["slot", "subscribed"]
        case .inventoryAdjust: ["slot", "totalQuantityOnHand", "remainingQuantityInUnit"]
        }
    }

    /// Decodes the command named by the last topic level from its payload. `knownSlots` nil accepts
    /// any slot id; otherwise a `slot` outside it is refused. The order commands also take a DRS
    /// notification as DRS sends it (`DRSNotification`), its `orderInfo.slotId` mapped through
    /// `drsSlots` (DRS slot id → ours).
    public static func decode(name rawName: String, payload: [UInt8], knownSlots: Set<String>? = nil,
                              drsSlots: [String: String] = [:]) -> Result<CommandRequest, CoreError> {
        let shownName = printable(rawName, limit: 64)
        func reject(_ reason: String, _ correlationId: String? = nil) -> Result<CommandRequest, CoreError> {
            .failure(.commandRejected(correlationId: correlationId, command: shownName, reason: reason))
        }
        guard payload.count <= maxPayloadBytes else {
            return reject("payload of \(payload.count) bytes exceeds the limit of \(maxPayloadBytes)")
        }
        guard String(validating: payload, as: UTF8.self) != nil else {
            return reject("payload is not UTF-8")
        }
        var object: [String: JSONValue]
        do {
            guard case .object(let parsed) = try JSONValue.parse(payload) else {
                return reject("expected a JSON object")
            }
            object = parsed
        } catch {
            return reject("invalid JSON: \(error)")
        }

        let correlationId: String
        // A DRS notification without one is answered under its notificationId.
        switch object["correlationId"] ?? DRSNotification.notificationId(in: object).map(JSONValue.string) {
        case nil:
            return reject("missing correlationId")
        case .string(let value)?:
            guard isPrintable(value, maxBytes: maxCorrelationIdBytes) else {
                return reject("correlationId must be 1 to \(maxCorrelationIdBytes) bytes of printable text")
            }
            correlationId = value
        default:
            return reject("correlationId must be a string")
        }
        // The name is checked after the correlationId is read, so even an unknown command's
        // answer reaches the request that asked.
        guard let name = CommandName(rawValue: rawName) else {
            return reject("unknown command '\(shownName)' (known: \(CommandName.allCases.map(\.rawValue).joined(separator: ", ")))",
                          correlationId)
        }

        do {
            object = try DRSNotification.flattened(object, for: name, drsSlots: drsSlots)
        } catch {
            return reject(error.reason, correlationId)
        }
        let allowed = Set(["correlationId"] + fields(of: name))
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            return reject("unknown field '\(printable(unknown, limit: 64))'", correlationId)
        }
        let reader = CommandFields(object: object, knownSlots: knownSlots)
        let command: Command
        do {
            command = try reader.command(name)
        } catch {
            return reject(error.reason, correlationId)
        }
        return .success(CommandRequest(correlationId: correlationId, command: command))
    }

    /// Text safe to echo back and log: control characters replaced, length bounded.
    public static func printable(_ text: String, limit: Int) -> String {
        let cleaned = String(text.unicodeScalars.map { $0.properties.generalCategory.isControl ? "?" : Character($0) })
        return cleaned.count > limit ? String(cleaned.prefix(limit)) + "…" : cleaned
    }
}

private extension Unicode.GeneralCategory {
    var isControl: Bool { self == .control || self == .format || self == .lineSeparator || self == .paragraphSeparator }
}

/// Whether `text` is 1 to `maxBytes` bytes with no control characters.
func isPrintable(_ text: String, maxBytes: Int) -> Bool {
    !text.isEmpty && text.utf8.count <= maxBytes
        && text.unicodeScalars.allSatisfy { !$0.properties.generalCategory.isControl }
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
