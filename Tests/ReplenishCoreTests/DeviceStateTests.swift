import Foundation
@testable import ReplenishCore
import Testing

/// `DeviceBook.state`: what `{base}/state` says after commands, without SQLite or a broker.
@Suite("device state")
struct DeviceStateTests {
    typealias T = DeviceBookStepTests

    static func book() -> DeviceBook {
        var book = DeviceBook()
        for slot in [T.tank, T.pods] {
            book.ledgers[slot.id] = SlotLedger()
            book.policies[slot.id] = ReplenishmentPolicy(settings: ReplenishmentSettings(mode: .cloud))
        }
        return book
    }

    static func take(_ book: inout DeviceBook, _ name: String, _ json: String) {
        let context = T.context(maxMessageBytes: 128 * 1024)
        let step = book.take(T.command(name, json), context)
        if !step.isEmpty { book.committed(step, at: context.now) }
    }

    @Test("per slot its state, order and last applied command; the answered commands with their outcome")
    func afterCommands() throws {
        var book = Self.book()
        let fresh = book.state(slots: [T.tank, T.pods], configHash: "cafe", at: Fixture.noon)
        #expect(fresh.slots.map(\.slot) == ["tank", "pods"])
        #expect(fresh.slots.map(\.replenishment) == ["idle", "idle"])
        #expect(fresh.commands.isEmpty && fresh.slots.allSatisfy { $0.lastApplied == nil && $0.orderId == nil })

        Self.take(&book, "orderPlaced", #"{"correlationId":"p-1","slot":"tank","orderId":"o-1","quantity":500}"#)
        Self.take(&book, "orderShipped", #"{"correlationId":"s-1","slot":"tank","orderId":"o-1","quantity":500}"#)
        Self.take(&book, "orderShipped", #"{"correlationId":"s-2","slot":"pods","orderId":"nope","quantity":-1}"#)
        Self.take(&book, "reportNow", #"{"correlationId":"r-1"}"#)
        let state = book.state(slots: [T.tank, T.pods], configHash: "cafe", at: Fixture.noon)
        #expect(state.slots[0] == DeviceState.Slot(slot: "tank", replenishment: "shipped", orderId: "o-1", lastApplied: "s-1"))
        // A rejected command changes nothing and is not "applied"; reportNow is no slot's.
        #expect(state.slots[1] == DeviceState.Slot(slot: "pods", replenishment: "idle", orderId: nil, lastApplied: nil))
        #expect(state.commands.map { "\($0.correlationId) \($0.command) \($0.outcome)" }
                == ["p-1 orderPlaced applied", "s-1 orderShipped applied", "r-1 reportNow applied"])
        // A rejection without a journal entry (bad arguments) is answered but not listed; a rejected
        // policy change would be.

        let json = try #require(try JSONSerialization.jsonObject(with: Data(state.encoded(header: T.context(maxMessageBytes: 1).header))) as? [String: Any])
        #expect(json["schema"] as? String == "replenish.state/1")
        #expect(json["seq"] == nil && json["messageId"] == nil)
        #expect(json["configHash"] as? String == "cafe")
        let slots = try #require(json["slots"] as? [[String: Any]])
        #expect(slots[0]["lastAppliedCorrelationId"] as? String == "s-1")
        #expect(slots[1]["orderId"] is NSNull)
    }

    @Test("only the newest 32 commands are listed")
    func bounded() {
        var book = Self.book()
        for i in 1...40 { Self.take(&book, "reportNow", #"{"correlationId":"r-\#(i)"}"#) }
        let state = book.state(slots: [T.tank], configHash: "cafe", at: Fixture.noon)
        #expect(state.commands.count == DeviceState.listedCommands)
        #expect(state.commands.first?.correlationId == "r-9" && state.commands.last?.correlationId == "r-40")
    }
}
