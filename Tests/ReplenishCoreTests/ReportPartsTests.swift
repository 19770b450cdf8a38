import Foundation
@testable import ReplenishCore
import Testing
import ReplenishTestSupport

@Suite("status reports split by message size")
struct ReportPartsTests {
    static let header = MessageHeader(schema: StatusReport.schema, deviceId: "cm-1", seq: 0, generatedAt: Fixture.utc(2026, 12, 1),
                                      clock: .synchronized, agentVersion: "t", configHash: "h")

    static func slots(_ count: Int) -> [SlotStatus] {
        (0..<count).map { i in
            var ledger = SlotLedger()
            let definition = Fixture.slot(.level, id: "slot-\(i)")
            _ = ledger.apply(Reading(slot: definition.id, at: Fixture.utc(2026, 12, 1), observation: .level(900)),
                             definition: definition, day: DayKey(year: 2026, month: 12, day: 1))
            return SlotStatus(definition: definition, ledger: ledger, health: .ok, now: Fixture.utc(2026, 12, 1), clock: .synchronized)
        }
    }

    @Test("a report that fits is one message without a part field")
    func fits() throws {
        let groups = try StatusReport.parts(header: Self.header, reason: .daily, slots: Self.slots(3), maxBytes: 128 << 10)
        #expect(groups.count == 1 && groups[0].count == 3)
        let json = String(decoding: try StatusReport(header: Self.header, reason: .daily, slots: groups[0]).json(), as: UTF8.self)
        #expect(!json.contains("\"part\""))
    }

    @Test("500 slots go out in parts of at most 128 KiB, every slot once and in order", arguments: [128 << 10, 16 << 10])
    func split(maxBytes: Int) throws {
        let slots = Self.slots(500)
        let groups = try StatusReport.parts(header: Self.header, reason: .daily, slots: slots, maxBytes: maxBytes)
        #expect(groups.count > 1)
        #expect(groups.flatMap { $0.map(\.slot) } == slots.map(\.slot))
        var header = Self.header
        for (i, group) in groups.enumerated() {
            header.seq = UInt64.max - UInt64(groups.count - i)  // the widest seqs there are
            let part = StatusReport.Part(number: i + 1, count: groups.count, firstSeq: header.seq - UInt64(i))
            let bytes = try StatusReport(header: header, reason: .daily, slots: group, part: part).json()
            #expect(bytes.count <= maxBytes)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let shown = try #require(object["part"] as? [String: Any])
            #expect(shown["number"] as? Int == i + 1)
            #expect(shown["count"] as? Int == groups.count)
        }
    }

    @Test("a slot too large for any message is refused by name")
    func tooLarge() {
        #expect {
            try StatusReport.parts(header: Self.header, reason: .daily, slots: Self.slots(2), maxBytes: 600)
        } throws: {
            guard let error = $0 as? CoreError else { return false }
            return error.code == .slotTooLarge && error.description.hasPrefix("slot 'slot-0' alone makes a status report of ")
                && error.description.hasSuffix(" bytes, more than the 600 allowed (mqtt.max_message_size)")
        }
    }
}
