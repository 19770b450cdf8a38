import Foundation

/// `replenish.event/1`: one event, published on `{base}/events` as soon as it happens.
public struct EventMessage: Sendable, Equatable, Encodable {
    public static let schema = "replenish.event/1"

    public var header: MessageHeader
    public var event: LedgerEvent

    public init(header: MessageHeader, event: LedgerEvent) {
        self.header = header
        self.event = event
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: JSONKey.self)
        try header.encode(into: &c)
        switch event {
        case let .refilled(slot, from, to, at):
            try c.encode("refilled", forKey: "event")
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(wireQuantity(from), forKey: "fromQuantity")
            try c.encode(wireQuantity(to), forKey: "toQuantity")
        case let .replaced(slot, quantity, at):
            try c.encode("replaced", forKey: "event")
            try c.encode(slot, forKey: "slot")
            try c.encode(Timestamp.string(at), forKey: "at")
            try c.encode(wireQuantity(quantity), forKey: "quantity")
        }
    }

    /// The JSON payload.
    public func json() throws -> [UInt8] { try WireJSON.encode(self) }
}
