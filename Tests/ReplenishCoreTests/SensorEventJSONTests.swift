import Foundation
@testable import ReplenishCore
import Testing

@Suite("sensor and outbox events on the wire")
struct SensorEventJSONTests {
    static let at = Date(timeIntervalSince1970: 1_772_323_200)
    static let header = MessageHeader(schema: EventMessage.schema, deviceId: "cm-1", seq: 9, generatedAt: at,
                                      clock: .synchronized, agentVersion: "0.1.0", configHash: "abc")

    static func object(_ event: EventMessage.Event) throws -> [String: Any] {
        let json = try EventMessage(header: header, event: event).json()
        return try #require(try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any])
    }

    @Test("sensorFault names the slot, the health and the reason")
    func sensorFault() throws {
        let json = try Self.object(.sensorFault(slot: "water", health: .fault, reason: "bus error after 3 retries", at: Self.at))
        #expect(json["event"] as? String == "sensorFault")
        #expect(json["slot"] as? String == "water")
        #expect(json["health"] as? String == "fault")
        #expect(json["reason"] as? String == "bus error after 3 retries")
        #expect(json["at"] as? String == "2026-03-01T00:00:00Z")
        #expect(json["messageId"] as? String == "cm-1-9")
    }

    @Test("sensorRecovered says the slot is ok again")
    func sensorRecovered() throws {
        let json = try Self.object(.sensorRecovered(slot: "beans", at: Self.at))
        #expect(json["event"] as? String == "sensorRecovered")
        #expect(json["health"] as? String == "ok")
    }

    @Test("outboxEvicted carries how many reports and which seqs")
    func outboxEvicted() throws {
        let json = try Self.object(.outboxEvicted(OutboxEviction(reports: 4, firstSeq: 2, lastSeq: 9)))
        #expect(json["evictedReports"] as? Int == 4)
        #expect(json["firstEvictedSeq"] as? Int == 2)
        #expect(json["lastEvictedSeq"] as? Int == 9)
        #expect(OutboxEviction.adding([12, 13], to: OutboxEviction(reports: 4, firstSeq: 2, lastSeq: 9))
            == OutboxEviction(reports: 6, firstSeq: 2, lastSeq: 13))
        #expect(OutboxEviction.adding([], to: nil) == nil)
    }

    @Test("outboxDeadLettered names the seq, its topic, the broker's reason and how often it refused")
    func outboxDeadLettered() throws {
        let letter = DeadLetter(seq: 41, topic: "replenish/v1/cm-1/replies", reason: "Not authorized (0x87)", refusals: 3)
        let json = try Self.object(.outboxDeadLettered(letter, at: Self.at))
        #expect(json["event"] as? String == "outboxDeadLettered")
        #expect(json["deadLetteredSeq"] as? Int == 41)
        #expect(json["topic"] as? String == "replenish/v1/cm-1/replies")
        #expect(json["reason"] as? String == "Not authorized (0x87)")
        #expect(json["refusals"] as? Int == 3)
        #expect(json["at"] as? String == "2026-03-01T00:00:00Z")
    }
}
