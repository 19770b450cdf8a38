import Foundation
import Testing
import ReplenishCore
@testable import ReplenishHardware
import ReplenishTestSupport

@Suite("Simulated source")
struct SimulatedSourceTests {
    static let berlin = LocalZone.berlin
    /// 2026-03-01 00:00 UTC; the 60-day runs cross the spring-forward day.
    static let start = Date(timeIntervalSince1970: 1_772_323_200)
    static let fiveMinutes = 300.0

    static func definition(_ sensor: SensorKind, capacity: Double = 1500) -> SlotDefinition {
        SlotDefinition(id: "sim-\(sensor.rawValue)", sensor: sensor,
                       measurement: ReplenishCore.Measurement(type: .volume, unit: .milliliter), capacity: capacity)
    }

    struct Run {
        var source: SimulatedSource
        var ledger = SlotLedger()
        var events: [LedgerEvent] = []
        var observations: [(Date, Observation)] = []
    }

    /// Samples every `interval` seconds from `start` (inclusive) for `days` days, feeding a ledger.
    static func run(_ definition: SlotDefinition, _ settings: SimulationSettings, days: Double,
                    interval: Double = fiveMinutes) -> Run {
        var run = Run(source: SimulatedSource(definition: definition, settings: settings,
                                              sampleIntervalSeconds: interval, start: start))
        var t = start
        let end = start.addingTimeInterval(days * 86_400)
        while t <= end {
            for o in run.source.sample(at: t) {
                run.observations.append((t, o))
                run.events += run.ledger.apply(Reading(slot: definition.id, at: t, observation: o),
                                               definition: definition, zone: berlin)
            }
            t = t.addingTimeInterval(interval)
        }
        return run
    }

    @Test("the same seed gives the same observations; another seed does not", arguments: SensorKind.allCases)
    func deterministic(_ sensor: SensorKind) {
        let settings = SimulationSettings(dailyConsumption: 300, usesPerDay: 8, refill: .every(seconds: 3 * 86_400), seed: 7)
        let a = Self.run(Self.definition(sensor), settings, days: 10)
        let b = Self.run(Self.definition(sensor), settings, days: 10)
        #expect(a.observations.map(\.1) == b.observations.map(\.1))
        #expect(a.observations.map(\.0) == b.observations.map(\.0))
        #expect(a.source.totalUsed == b.source.totalUsed)
        #expect(a.source.refills == b.source.refills)

        var other = settings
        other.seed = 8
        let c = Self.run(Self.definition(sensor), other, days: 10)
        #expect(c.observations.map(\.1) != a.observations.map(\.1))
    }

    @Test("without a seed, the slot id picks the stream, reproducibly")
    func seedFromSlotID() {
        let settings = SimulationSettings(dailyConsumption: 300, usesPerDay: 8)
        let a = Self.run(Self.definition(.usage), settings, days: 3)
        let b = Self.run(Self.definition(.usage), settings, days: 3)
        #expect(a.observations.map(\.1) == b.observations.map(\.1))
        #expect(SplitMix64.seed(from: "") == 0xcbf2_9ce4_8422_2325)   // FNV-1a offset basis
        #expect(SplitMix64.seed(from: "a") == 0xaf63_dc4c_8601_ec8c)  // FNV-1a("a")
        #expect(SplitMix64.seed(from: "water") != SplitMix64.seed(from: "beans"))
    }

    struct GroundTruthCase: CustomTestStringConvertible, Sendable {
        var sensor: SensorKind
        var refill: SimulationSettings.RefillPlan
        var seed: UInt64
        var testDescription: String { "\(sensor), refill \(refill), seed \(seed)" }
    }

    static let groundTruthCases: [GroundTruthCase] = [1, 99, 2026].flatMap { seed in [
        GroundTruthCase(sensor: .level, refill: .below(fraction: 0.1), seed: seed),
        GroundTruthCase(sensor: .usage, refill: .every(seconds: 7 * 86_400), seed: seed),
        GroundTruthCase(sensor: .levelUsage, refill: .every(seconds: 7 * 86_400), seed: seed),
    ] }

    @Test("over 30 days at 5-minute samples, the ledger's consumption equals what the household used",
          arguments: groundTruthCases)
    func ledgerMatchesGroundTruth(_ c: GroundTruthCase) {
        let settings = SimulationSettings(dailyConsumption: 250, usesPerDay: 10, noise: 0.3, refill: c.refill, seed: c.seed)
        let run = Self.run(Self.definition(c.sensor), settings, days: 30)
        #expect(run.source.totalUsed > 30 * 250 * 0.7)
        #expect(abs(run.ledger.consumedTotal - run.source.totalUsed) < 1e-6,
                "ledger \(run.ledger.consumedTotal) vs used \(run.source.totalUsed)")
        let daily = run.ledger.daily.reduce(0) { $0 + $1.consumed }
        #expect(abs(daily - run.source.totalUsed) < 1e-6)
        switch c.sensor {
        case .level, .levelUsage: #expect(run.source.refills >= 3)
        case .usage: #expect(run.events.isEmpty)
        }
        if c.sensor == .levelUsage { #expect(run.events.count == run.source.refills) }
    }

    @Test("the ledger matches the household whatever the sampling interval, even with several uses and refills per sample",
          arguments: SensorKind.allCases, [60, 300, 3600, 21_600] as [Double])
    func groundTruthAnyInterval(_ sensor: SensorKind, interval: Double) {
        // Fast use (a full 1500 lasts about 3 days), 24 uses a day: an hourly or 6-hourly sample sees
        // several uses, and a refill often falls between two uses of the same sample.
        let refill: SimulationSettings.RefillPlan = sensor == .level ? .below(fraction: 0.1) : .every(seconds: 2 * 86_400 + 150)
        let settings = SimulationSettings(dailyConsumption: 500, usesPerDay: 24, noise: 0.3, refill: refill, seed: 17)
        let run = Self.run(Self.definition(sensor), settings, days: 30, interval: interval)
        #expect(abs(run.ledger.consumedTotal - run.source.totalUsed) < 1e-6,
                "ledger \(run.ledger.consumedTotal) vs used \(run.source.totalUsed)")
        if sensor != .usage {
            #expect(run.source.refills >= 8)
            #expect(run.events.count == run.source.refills)
        }
    }

    @Test("mean daily consumption over 60 days is within 15 % of the configured rate",
          arguments: [(SensorKind.usage, 1 as UInt64), (.usage, 2), (.levelUsage, 3), (.level, 4)])
    func meanRate(_ sensor: SensorKind, seed: UInt64) throws {
        let settings = SimulationSettings(dailyConsumption: 200, usesPerDay: 6, noise: 0.2,
                                          refill: sensor == .level ? .below(fraction: 0.1) : .every(seconds: 7 * 86_400), seed: seed)
        let run = Self.run(Self.definition(sensor), settings, days: 60)
        let perDay = run.source.totalUsed / 60
        #expect(abs(perDay - 200) <= 200 * 0.15, "mean \(perDay) a day")
        let now = Self.start.addingTimeInterval(60 * 86_400)
        let average = try #require(run.ledger.averageDailyConsumption(asOf: now, window: 60, zone: Self.berlin))
        #expect(abs(average - 200) <= 200 * 0.15, "ledger average \(average) a day")
    }

    @Test("a level slot refilled below 10 % never reads below 0, and every refill is one refilled event",
          arguments: [5, 6, 7, 8] as [UInt64])
    func levelRefills(_ seed: UInt64) {
        let definition = Self.definition(.level, capacity: 1000)
        let settings = SimulationSettings(dailyConsumption: 300, usesPerDay: 8, noise: 0.5,
                                          refill: .below(fraction: 0.1), seed: seed)
        let run = Self.run(definition, settings, days: 30)
        let levels = run.observations.compactMap { if case let .level(q) = $0.1 { q } else { nil } }
        #expect(levels.count == run.observations.count)
        #expect(levels.allSatisfy { $0 >= 0 && $0 <= 1000 })
        #expect(run.source.refills >= 5)
        let refilled = run.events.filter { if case .refilled = $0 { true } else { false } }
        #expect(refilled.count == run.source.refills)
        #expect(run.ledger.refillCount == run.source.refills)
    }

    @Test("a slot that is never refilled runs dry and stops at 0", arguments: [SensorKind.level, .levelUsage])
    func runsDry(_ sensor: SensorKind) {
        let settings = SimulationSettings(dailyConsumption: 200, usesPerDay: 8, refill: .never, seed: 11)
        let run = Self.run(Self.definition(sensor, capacity: 1000), settings, days: 10)
        #expect(abs(run.source.totalUsed - 1000) < 1e-6)
        #expect(run.source.refills == 0)
        #expect(run.ledger.remaining == 0)
        #expect(abs(run.ledger.consumedTotal - 1000) < 1e-6)
    }

    @Test("initialQuantity starts a slot part-full")
    func initialQuantity() throws {
        let settings = SimulationSettings(dailyConsumption: 100, usesPerDay: 4, refill: .never, initialQuantity: 400, seed: 3)
        let source = SimulatedSource(definition: Self.definition(.level, capacity: 1000), settings: settings,
                                     sampleIntervalSeconds: 300, start: Self.start)
        #expect(source.sample(at: Self.start) == [.level(400)])
    }

    @Test("sampling twice at the same instant reports no new use")
    func idempotentInstant() {
        let settings = SimulationSettings(dailyConsumption: 500, usesPerDay: 50, seed: 9)
        let source = SimulatedSource(definition: Self.definition(.usage), settings: settings,
                                     sampleIntervalSeconds: 300, start: Self.start)
        let t = Self.start.addingTimeInterval(86_400)
        #expect(!source.sample(at: t).isEmpty)
        #expect(source.sample(at: t).isEmpty)
    }

    @Test("SplitMix64 matches the reference sequence and its uniform values lie in (0, 1]")
    func splitMix() {
        var g = SplitMix64(seed: 0)
        #expect(g.next() == 0xe220_a839_7b1d_cdaf)
        var r = SplitMix64(seed: 12345)
        var sum = 0.0
        var outOfRange = 0
        for _ in 0..<100_000 {
            let u = r.unit()
            if !(u > 0 && u <= 1) { outOfRange += 1 }
            sum += r.exponential(mean: 2)
        }
        #expect(outOfRange == 0)
        #expect(abs(sum / 100_000 - 2) < 0.05)
    }
}
