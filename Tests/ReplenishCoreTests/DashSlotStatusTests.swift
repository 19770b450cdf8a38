import Foundation
import Testing
@testable import ReplenishCore
import ReplenishTestSupport

/// A slot's `drs` member: exactly a Dash Replenishment SlotStatus body, or absent.
@Suite("The drs member: a DRS SlotStatus body per slot")
struct DashSlotStatusTests {
    static let drsKeys: Set<String> = ["expectedReplenishmentDate", "remainingQuantityInUnit", "originalQuantityInUnit",
                                       "totalQuantityOnHand", "lastUseDate"]
    let zone = Fixture.berlin
    /// 2026-05-12 07:00:00 UTC.
    let now = Fixture.utc(2026, 5, 12, 7)

    /// A slot with ten days of use at 50 a day, the last on 2026-05-11 18:30 UTC, `onHand` from its policy.
    func status(_ definition: SlotDefinition, lastLevel: Double = 499.7, onHand: Double? = 20.7,
                replacedFirst: Bool = true, clock: ClockStatus = .synchronized) -> SlotStatus {
        var h = LedgerHarness(definition)
        let start = Fixture.utc(2026, 5, 1, 8)
        switch definition.sensor {
        case .level: h.apply(.level(1000), at: start)
        case .usage, .levelUsage: if replacedFirst { h.apply(.replaced(nil), at: start) }
        }
        for d in 1...10 {
            let at = Fixture.utc(2026, 5, 1 + d, 18, 30)
            h.apply(definition.sensor == .level ? .level(d == 10 ? lastLevel : 1000 - Double(d) * 50) : .consumed(5),
                    at: at)
        }
        let ledger = h.ledger.closed(asOf: now, window: definition.forecastWindowDays, zone: zone)
        var status = SlotStatus(definition: definition, ledger: ledger, health: .ok, now: now, clock: clock)
        status.totalQuantityOnHand = onHand
        return status
    }

    /// The slot as the cloud gets it, and its `drs` member's text.
    func wire(_ status: SlotStatus) throws -> (slot: [String: Any], drsText: String?) {
        let header = MessageHeader(schema: StatusReport.schema, deviceId: "cm-0042", seq: 7, generatedAt: now,
                                   clock: .synchronized, agentVersion: "0.1.0", configHash: "sha256:abc")
        let text = String(decoding: try StatusReport(header: header, reason: .daily, slots: [status]).json(), as: UTF8.self)
        let slot = try #require((try jsonObject(Array(text.utf8))["slots"] as? [[String: Any]])?.first)
        let drsText = text.range(of: #""drs":\{[^}]*\}"#, options: .regularExpression).map { String(text[$0]) }
        return (slot, drsText)
    }

    @Test("a level slot with everything known: five fields, whole numbers rounded down, the report's own dates")
    func present() throws {
        let status = status(Fixture.slot(.level))
        let (slot, drsText) = try wire(status)
        let drs = try #require(slot["drs"] as? [String: Any])
        #expect(Set(drs.keys) == Self.drsKeys)
        // 499.7 left and 20.7 on hand go to DRS as 499 and 20; the capacity 1000 as it is.
        let text = try #require(drsText)
        for member in [#""remainingQuantityInUnit":499[,}]"#, #""originalQuantityInUnit":1000[,}]"#,
                       #""totalQuantityOnHand":20[,}]"#] {
            #expect(text.range(of: member, options: .regularExpression) != nil, "\(member) in \(text)")
        }
        #expect(drs["lastUseDate"] as? String == "2026-05-11T18:30:00Z")
        #expect(drs["lastUseDate"] as? String == slot["lastUseDate"] as? String)
        #expect(drs["expectedReplenishmentDate"] as? String == slot["expectedReplenishmentDate"] as? String)
        // The top-level fields keep their decimals.
        #expect(slot["remainingQuantityInUnit"] as? Double == 499.7)
        #expect(slot["totalQuantityOnHand"] as? Double == 20.7)
    }

    @Test("binary noise never costs a unit: a remaining of 499.9999999 goes as 500, not 499")
    func noise() throws {
        let drs = try #require(status(Fixture.slot(.level), lastLevel: 500 - 1e-7, onHand: 3 * 0.1 * 10).drs)
        #expect(drs.remainingQuantityInUnit == 500)
        #expect(drs.totalQuantityOnHand == 3)
    }

    struct AbsentCase: CustomTestStringConvertible, Sendable {
        var why: String
        var definition: SlotDefinition
        var onHand: Double? = 20
        var replacedFirst = true
        var clock = ClockStatus.synchronized
        var testDescription: String { why }
    }

    static let absentCases: [AbsentCase] = [
        AbsentCase(why: "no on-hand quantity (no policy)", definition: Fixture.slot(.level), onHand: nil),
        AbsentCase(why: "a fractional capacity", definition: Fixture.slot(.level, capacity: 1000.5)),
        AbsentCase(why: "no forecast (an untrusted clock)", definition: Fixture.slot(.level), clock: .unsynchronized),
        AbsentCase(why: "a usage slot before its first replacement: remaining unknown",
                   definition: Fixture.slot(.usage, capacity: 50), replacedFirst: false),
        AbsentCase(why: "a usage slot with a fractional capacity", definition: Fixture.slot(.usage, capacity: 50.5)),
    ]

    @Test("a slot that cannot know one of the five fields has no drs member at all (not null)", arguments: absentCases)
    func absent(_ c: AbsentCase) throws {
        let status = status(c.definition, onHand: c.onHand, replacedFirst: c.replacedFirst, clock: c.clock)
        #expect(status.drs == nil)
        let (slot, drsText) = try wire(status)
        #expect(!slot.keys.contains("drs"))
        #expect(drsText == nil)
    }

    @Test("no use yet and no forecast yet: absent")
    func noUseNoForecast() throws {
        var h = LedgerHarness(Fixture.slot(.level))
        h.apply(.level(800), at: now.addingTimeInterval(-600))
        var status = SlotStatus(definition: h.definition, ledger: h.ledger, health: .ok, now: now, clock: .synchronized)
        status.totalQuantityOnHand = 10
        #expect(status.lastUseDate == nil)
        #expect(status.drs == nil)
        #expect(!(try wire(status).slot.keys.contains("drs")))
    }

    @Test("a usage slot: remaining is the capacity less the usage since the last replacement, and starts over at one")
    func usageSinceReplacement() throws {
        let definition = Fixture.slot(.usage, capacity: 50)
        var h = LedgerHarness(definition)
        h.apply(.consumed(4), at: Fixture.utc(2026, 5, 1, 8))  // before any replacement: not counted
        #expect(h.ledger.remainingSinceReplacement(capacity: 50) == nil)
        h.apply(.replaced(nil), at: Fixture.utc(2026, 5, 1, 9))
        #expect(h.ledger.remainingSinceReplacement(capacity: 50) == 50)
        for d in 1...6 { h.apply(.consumed(6.5), at: Fixture.utc(2026, 5, 1 + d, 18, 30)) }
        #expect(h.ledger.usedSinceReplacement == 39)
        #expect(h.ledger.remainingSinceReplacement(capacity: 50) == 11)

        var status = SlotStatus(definition: definition, ledger: h.ledger, health: .ok, now: Fixture.utc(2026, 5, 8, 7),
                                zone: zone)
        status.totalQuantityOnHand = 100
        let drs = try #require(status.drs)
        #expect(drs.remainingQuantityInUnit == 11)
        #expect(drs.originalQuantityInUnit == 50)
        #expect(drs.totalQuantityOnHand == 100)
        #expect(drs.lastUseDate == Fixture.utc(2026, 5, 7, 18, 30))
        // 11 left at 6.5 a day.
        #expect(abs(drs.expectedReplenishmentDate.timeIntervalSince(Fixture.utc(2026, 5, 8, 7)) - 11 / 6.5 * 86_400) < 1)

        // Used past its capacity: 0, never negative.
        for d in 7...8 { h.apply(.consumed(6.5), at: Fixture.utc(2026, 5, 1 + d, 18, 30)) }
        #expect(h.ledger.remainingSinceReplacement(capacity: 50) == 0)

        // A replacement starts over; the meter does not.
        h.apply(.replaced(nil), at: Fixture.utc(2026, 5, 10, 8))
        h.apply(.consumed(2.9), at: Fixture.utc(2026, 5, 10, 9))
        #expect(abs((h.ledger.remainingSinceReplacement(capacity: 50) ?? 0) - 47.1) < 1e-9)
        #expect(abs(h.ledger.consumedTotal - (4 + 8 * 6.5 + 2.9)) < 1e-9)
        var after = SlotStatus(definition: definition, ledger: h.ledger, health: .ok, now: Fixture.utc(2026, 5, 10, 12),
                               zone: zone)
        after.totalQuantityOnHand = 0
        #expect(after.drs?.remainingQuantityInUnit == 47)
        #expect(after.drs?.lastUseDate == Fixture.utc(2026, 5, 10, 9))
    }

    @Test("a ledger stored before usedSinceReplacement was kept still loads; the usage is unknown until the next replacement")
    func decodesLedgerWithoutUsage() throws {
        let stored = #"""
        {"consumedTotal":60,"reportedTotal":10,"refillCount":2,"lastRefillDate":800000000,"lastUseDate":800003600,
         "firstDay":"2026-05-02","openDay":"2026-05-04","openConsumed":20,"openSeenFromStart":true,"closedDayCount":2,
         "daily":[{"day":"2026-05-02","consumed":15,"whole":false},{"day":"2026-05-03","consumed":25,"whole":true}],
         "remaining":50,"referenceLevel":50}
        """#
        var ledger = try JSONDecoder().decode(SlotLedger.self, from: Data(stored.utf8))
        #expect(ledger.consumedTotal == 60)
        #expect(ledger.refillCount == 2)
        #expect(ledger.usedSinceReplacement == nil)
        #expect(ledger.remainingSinceReplacement(capacity: 50) == nil)

        let definition = Fixture.slot(.usage, capacity: 50)
        _ = ledger.apply(Reading(slot: definition.id, at: Fixture.noon, observation: .replaced(nil)), definition: definition,
                         zone: zone)
        _ = ledger.apply(Reading(slot: definition.id, at: Fixture.noon.addingTimeInterval(60), observation: .consumed(3)),
                         definition: definition, zone: zone)
        #expect(ledger.remainingSinceReplacement(capacity: 50) == 47)

        // The new member is stored, and read back.
        let data = try JSONEncoder().encode(ledger)
        #expect(String(decoding: data, as: UTF8.self).contains(#""usedSinceReplacement":3"#))
        #expect(try JSONDecoder().decode(SlotLedger.self, from: data) == ledger)
    }

    @Test("a stored usage no input could give is repaired to unknown")
    func repairsUsage() throws {
        let stored = #"{"consumedTotal":60,"usedSinceReplacement":-4}"#
        var ledger = try JSONDecoder().decode(SlotLedger.self, from: Data(stored.utf8))
        #expect(ledger.repair(capacity: 50).count == 1)
        #expect(ledger.usedSinceReplacement == nil)
    }
}
