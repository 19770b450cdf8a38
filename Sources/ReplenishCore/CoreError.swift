/// The one error type of ReplenishCore: why input was refused, be it a command (answered on
/// `{base}/replies`), a policy decision on one, a JSON document, or a status report that cannot
/// fit in a message. `reason` is the text answered on the wire, the MQTT contract.
public struct CoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What was refused, as an open set: new codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// A command payload that cannot be decoded: size, UTF-8, JSON, correlationId, name or fields.
        public static let commandRejected = Code(name: "commandRejected")
        /// A field of a command payload that is missing or wrong (answered as `commandRejected`).
        public static let invalidField = Code(name: "invalidField")
        /// A valid command that the replenishment policy refuses in its current state.
        public static let policyRejected = Code(name: "policyRejected")
        /// A JSON document refused by the strict parser; `offset` says where.
        public static let invalidJSON = Code(name: "invalidJSON")
        /// A slot that does not fit in a message of the size allowed, even alone.
        public static let slotTooLarge = Code(name: "slotTooLarge")
        public var description: String { name }
    }

    public var code: Code
    /// Why, as answered on the wire (a rejected reply's `error`) and logged.
    public var reason: String
    /// For `.commandRejected`: the command name as received (cut to a printable, bounded form).
    public var command: String?
    /// For `.commandRejected`: the request's correlationId when one could be read.
    public var correlationId: String?
    /// For `.invalidJSON`: the byte offset where the document went wrong.
    public var offset: Int?

    public init(_ code: Code, reason: String, command: String? = nil, correlationId: String? = nil, offset: Int? = nil) {
        self.code = code
        self.reason = reason
        self.command = command
        self.correlationId = correlationId
        self.offset = offset
    }

    /// A command refused before it was applied.
    public static func commandRejected(correlationId: String?, command: String, reason: String) -> CoreError {
        CoreError(.commandRejected, reason: reason, command: command, correlationId: correlationId)
    }

    /// A command the replenishment policy refuses.
    public static func policyRejected(_ reason: String) -> CoreError { CoreError(.policyRejected, reason: reason) }

    public var description: String {
        if let command { return "\(command) rejected: \(reason)" }
        if let offset { return "\(reason) at byte \(offset)" }
        return reason
    }
}
