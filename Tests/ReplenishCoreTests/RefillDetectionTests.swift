import Foundation
import Testing
@testable import ReplenishCore

@Suite("Slot ledger: refill detection and level noise")
struct RefillDetectionTests {
    struct RefillCase: CustomTestStringConvertible, Sendable {
        var name: String
        var levels: [Double]
        var consumed: Double
        /// (from, to) of every refilled event, in order.
        var refills: [RefillPair]
        var remaining: Double
        var testDescription: String { name }
    }

    struct RefillPair: Equatable, Sendable {
        var from: Double
        var to: Double
        init(_ from: Double, _ to: Double) { self.from = from; self.to = to }
    }

    /// Capacity 1000, hysteresis 50 throughout.
    static let cases: [RefillCase] = [
        RefillCase(name: "a rise above the hysteresis is a refill, not negative consumption",
                   levels: [400, 300, 950], consumed: 100, refills: [RefillPair(300, 950)], remaining: 950),
        RefillCase(name: "consumption after a refill counts from the refilled level",
                   levels: [400, 300, 950, 900], consumed: 150, refills: [RefillPair(300, 950)], remaining: 900),
        RefillCase(name: "a rise of exactly the hysteresis is noise",
                   levels: [500, 550], consumed: 0, refills: [], remaining: 500),
        RefillCase(name: "a rise just above the hysteresis is a refill",
                   levels: [500, 550.5], consumed: 0, refills: [RefillPair(500, 550.5)], remaining: 550.5),
        RefillCase(name: "noise within the hysteresis: no event, no consumption, falling back does not count again",
                   levels: [500, 530, 500, 540, 500, 520, 500], consumed: 0, refills: [], remaining: 500),
        RefillCase(name: "after noise, only the part below the old reference counts",
                   levels: [500, 540, 480], consumed: 20, refills: [], remaining: 480),
        RefillCase(name: "noise after a drop compares with the lowest level seen",
                   levels: [500, 450, 490, 460, 440], consumed: 60, refills: [], remaining: 440),
        RefillCase(name: "two refills are two events",
                   levels: [900, 100, 1000, 200, 800], consumed: 1600,
                   refills: [RefillPair(100, 1000), RefillPair(200, 800)], remaining: 800),
        RefillCase(name: "refill from empty",
                   levels: [30, 0, 1000], consumed: 30, refills: [RefillPair(0, 1000)], remaining: 1000),
        RefillCase(name: "the first reading only sets the reference",
                   levels: [1000], consumed: 0, refills: [], remaining: 1000),
    ]

    @Test("level rises: refill versus noise", arguments: cases)
    func refillOrNoise(_ c: RefillCase) {
        let definition = Fixture.slot(.level, capacity: 1000, hysteresis: 50)
        var h = LedgerHarness(definition)
        h.apply(c.levels.map(Observation.level))
        #expect(abs(h.ledger.consumedTotal - c.consumed) < 1e-9)
        #expect(h.ledger.remaining == c.remaining)
        let refills: [RefillPair] = h.events.compactMap {
            if case let .refilled(slot, from, to, _) = $0, slot == definition.id { return RefillPair(from, to) }
            return nil
        }
        #expect(refills == c.refills)
        #expect(h.events.count == c.refills.count)
        #expect(h.ledger.refillCount == c.refills.count)
    }

    @Test("a refill event carries the slot and the time of the reading that revealed it")
    func refillEventTime() throws {
        var h = LedgerHarness(Fixture.slot(.level, capacity: 1000, hysteresis: 50))
        let t0 = Fixture.noon
        let t1 = t0.addingTimeInterval(300)
        h.apply(.level(120), at: t0)
        let events = h.apply(.level(980), at: t1)
        #expect(events == [.refilled(slot: "water-level", from: 120, to: 980, at: t1)])
        #expect(h.ledger.lastRefillDate == t1)
        #expect(h.ledger.lastUseDate == nil)
        #expect(h.ledger.consumedTotal == 0)
    }

    @Test("the default hysteresis is 5 % of capacity")
    func defaultHysteresis() {
        let definition = Fixture.slot(.level, capacity: 2000)
        #expect(definition.refillHysteresis == 100)
        var h = LedgerHarness(definition)
        h.apply([.level(1000), .level(1100), .level(1000.0), .level(1100.5)])
        #expect(h.events.count == 1)
        #expect(h.ledger.consumedTotal == 0)
    }
}
