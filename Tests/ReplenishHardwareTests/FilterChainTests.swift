import Testing
@testable import ReplenishHardware

@Suite("Filter chain")
struct FilterChainTests {
    static let linear = [CalibrationPoint(raw: 0, value: 0), CalibrationPoint(raw: 1000, value: 100)]

    @Test("order matters: clamp then median differs from median then clamp")
    func orderMatters() throws {
        let raw: [Double] = [90, 150, 150]
        let clampFirst = try runChain([.clamp(min: nil, max: 100), .median(window: 2)], raw)
        let medianFirst = try runChain([.median(window: 2), .clamp(min: nil, max: 100)], raw)
        #expect(clampFirst.map(\.value) == [90, 95, 100])
        #expect(medianFirst.map(\.value) == [90, 100, 100])
        #expect(clampFirst.map(\.value) != medianFirst.map(\.value))
    }

    @Test("order matters: plausibility on raw counts versus on calibrated millilitres")
    func plausibilityBeforeOrAfterCalibrate() throws {
        let raw: [Double] = [500]
        let before = try runChain([PlausibilityLimits.only(max: 100), .calibrate(points: Self.linear)], raw)
        let after = try runChain([.calibrate(points: Self.linear), PlausibilityLimits.only(max: 100)], raw)
        #expect(before[0].value == nil)
        #expect(after[0].value == 50)
    }

    @Test("every stage's output is there for probe, in order")
    func stagesForProbe() throws {
        let filters: [SensorFilter] = [.calibrate(points: Self.linear), .median(window: 3),
                                       .clamp(min: 0, max: 80), PlausibilityLimits.only(min: 0, max: 100)]
        let out = try runChain(filters, [900])[0]
        #expect(out.raw == 900)
        #expect(out.stages.map(\.filter) == filters)
        #expect(out.stages.map(\.value) == [90, 90, 80, 80])
        #expect(out.stages.map(\.note) == [nil, nil, .clamped, nil])
        #expect(out.value == 80)
    }

    @Test("a rejected sample stops the chain: later stages never take it in")
    func rejectionStopsChain() throws {
        // A glitch read of the page counter must not move the delta baseline.
        let filters: [SensorFilter] = [PlausibilityLimits.only(min: 1000, max: 60000), .delta(modulus: nil)]
        let out = try runChain(filters, [5000, 5004, 0, 5010])
        #expect(out.map(\.value) == [nil, 4, nil, 6])
        #expect(out[2].stages.count == 1)
        #expect(out[2].stages[0].note == .rejected(reason: "value 0 below minimum 1000"))
    }

    @Test("plausibility after delta catches a misjudged reset or wrap")
    func plausibilityAfterDelta() throws {
        let filters: [SensorFilter] = [.delta(modulus: 65536), PlausibilityLimits.only(min: 0, max: 50)]
        // 40000 -> 10 looks like a wrap of 25546 pages in one sample; no printer does that.
        let out = try runChain(filters, [40000, 40010, 10, 15])
        #expect(out.map(\.value) == [nil, 10, nil, 5])
        #expect(isImplausible(out[2].verdict))
    }

    @Test("NaN and infinity are implausible before any stage, and leave no trace in its state",
          arguments: [Double.nan, .infinity, -.infinity, .signalingNaN])
    func nonFinite(bad: Double) throws {
        let filters: [SensorFilter] = [.median(window: 3), .delta(modulus: nil)]
        let out = try runChain(filters, [10, 20, bad, 30])
        #expect(isImplausible(out[2].verdict))
        #expect(out[2].value == nil)
        #expect(out[2].stages.isEmpty)
        // Medians 10, 15, 20 without the bad sample: deltas 5 and 5.
        #expect(out[1].value == 5 && out[3].value == 5)
    }

    @Test("an empty chain passes finite raw values through")
    func emptyChain() throws {
        let out = try runChain([], [3.5, .nan])
        #expect(out[0].value == 3.5)
        #expect(out[1].value == nil)
    }

    @Test("a stage that overflows to infinity makes the sample implausible")
    func overflow() throws {
        let points = [CalibrationPoint(raw: 0, value: 0), CalibrationPoint(raw: 1, value: 1e300)]
        let out = try runChain([.calibrate(points: points)], [1e10])
        #expect(out[0].value == nil)
        #expect(out[0].verdict == .implausible(reason: "filter 1 produced inf"))
    }

    @Test("an implausible sample never produces a value for the ledger", arguments: 0..<8)
    func neverReachesLedger(seed: UInt64) throws {
        // A noisy recorded-style sequence with spikes, NaN, dead stretches and fast falls.
        var rng = TestRandom(seed: seed)
        var chain = try FilterChain([
            .calibrate(points: [CalibrationPoint(raw: 2400, value: 0), CalibrationPoint(raw: 13200, value: 1800)]),
            .median(window: 3), .clamp(min: 0, max: 1800),
            PlausibilityLimits.only(min: 0, max: 1800, fall: 5, stuckAfter: 5),
        ])
        var t = 0.0
        for _ in 0..<2000 {
            t += 1 + Double(rng.next() % 30)
            let raw: Double = switch rng.next() % 20 {
            case 0: .nan
            case 1: .infinity
            case 2: 0
            case 3, 4: 7702
            default: 2400 + Double(rng.next() % 10800)
            }
            let out = chain.process(raw: raw, at: t)
            #expect((out.value != nil) == (out.verdict == .plausible))
            if case .implausible = out.verdict { #expect(out.value == nil) }
        }
    }

    @Test("reset forgets the baseline and window (a new cartridge)")
    func reset() throws {
        var chain = try FilterChain([.median(window: 3), .delta(modulus: nil)])
        _ = chain.process(raw: 100, at: 0)
        _ = chain.process(raw: 110, at: 1)
        chain.reset()
        let first = chain.process(raw: 5, at: 2)
        #expect(first.verdict == .settling)
        #expect(chain.process(raw: 7, at: 3).value == 1)
    }
}

/// SplitMix64, so the property test is the same on every run.
struct TestRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
