import FoundationEssentials

/// What the device holds of the cloud's commands, published on `{base}/state` on every connect
/// and whenever it changes: per slot its replenishment state, its open order and the last command
/// applied to it, and the commands answered most recently. A broker discards the commands queued
/// for a session that expired while the device was offline (AWS IoT Core after an hour by
/// default); the cloud compares this with what it sent and sends again what the device has not
/// answered. A command that arrives twice is applied once (`CommandJournal`), so sending again is
/// always safe.
///
/// A snapshot, not a report: it carries no seq and does not go through the outbox; the newest one
/// is what counts (retained where `mqtt.retain` allows).
public struct DeviceState: Sendable, Equatable {
    public static let schema = "replenish.state/1"
    /// The newest answered commands listed, oldest first.
    public static let listedCommands = 32

    public struct Slot: Sendable, Equatable, Encodable {
        public var slot: String
        /// The replenishment state's name (`idle`, `requested`, `placed`, `shipped`, `suppressed`,
        /// `deregistered`, `unsubscribed`).
        public var replenishment: String
        /// The order the state is about, for `placed` and `shipped`.
        public var orderId: String?
        /// The correlationId of the last command applied to this slot (or to every slot).
        public var lastApplied: String?

        /// Every field always present: null for no order and no command yet.
        public func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(slot, forKey: "slot")
            try c.encode(replenishment, forKey: "replenishment")
            try c.encode(orderId, forKey: "orderId")
            try c.encode(lastApplied, forKey: "lastAppliedCorrelationId")
        }
    }

    public struct Answered: Sendable, Equatable, Encodable {
        public var correlationId: String
        public var command: String
        /// `applied` or `rejected`.
        public var outcome: String
    }

    public var slots: [Slot]
    public var commands: [Answered]
    public var configHash: String

    /// The JSON sent on `{base}/state`: the header fields of every message but `seq` and `messageId`.
    public func encoded(header: MessageHeader) throws -> [UInt8] {
        try WireJSON.encode(Wire(state: self, header: header))
    }

    private struct Wire: Encodable {
        let state: DeviceState
        let header: MessageHeader

        func encode(to encoder: any Encoder) throws {
            var c = encoder.container(keyedBy: JSONKey.self)
            try c.encode(DeviceState.schema, forKey: "schema")
            try c.encode(header.deviceId, forKey: "deviceId")
            try c.encode(Timestamp.string(header.generatedAt), forKey: "generatedAt")
            try c.encode(header.clock, forKey: "clock")
            try c.encode(header.agentVersion, forKey: "agentVersion")
            try c.encode(state.configHash, forKey: "configHash")
            try c.encode(state.slots, forKey: "slots")
            try c.encode(state.commands, forKey: "commands")
        }
    }
}

extension DeviceBook {
    /// The book's state for `{base}/state`, for the configured slots in their order.
    public func state(slots: [SlotDefinition], configHash: String, at now: Date) -> DeviceState {
        let entries = journal.entries
        let perSlot = slots.map { slot -> DeviceState.Slot in
            let state = policies[slot.id]?.state(at: now) ?? .idle
            let orderId: String? = switch state {
            case .placed(let id, _, _, _), .shipped(let id, _, _, _): id
            default: nil
            }
            let last = entries.last { $0.error == nil && ($0.slot == slot.id || ($0.slot == nil && $0.command != "reportNow")) }
            return DeviceState.Slot(slot: slot.id, replenishment: state.name, orderId: orderId, lastApplied: last?.correlationId)
        }
        let listed = entries.suffix(DeviceState.listedCommands).map {
            DeviceState.Answered(correlationId: $0.correlationId, command: $0.command,
                                 outcome: $0.error == nil ? "applied" : "rejected")
        }
        return DeviceState(slots: perSlot, commands: listed, configHash: configHash)
    }
}
