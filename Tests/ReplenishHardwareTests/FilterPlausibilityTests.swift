import Testing
@testable import ReplenishHardware

@Suite("Filter: plausibility")
struct FilterPlausibilityTests {
    @Test("values outside min...max are rejected, not clamped", arguments: [
        (-60.0, false), (-50, true), (0, true), (1900, true), (1900.5, false), (1e9, false),
    ])
    func range(value: Double, plausible: Bool) throws {
        let out = try runChain([PlausibilityLimits.only(min: -50, max: 1900)], [value])[0]
        #expect((out.verdict == .plausible) == plausible)
        #expect((out.value != nil) == plausible)
    }

    @Test("falling faster than maxFallPerSecond is rejected; a refill may rise at any speed")
    func fallAndRise() throws {
        // A 1.8 l water tank sampled every 10 s; the pump draws at most 20 ml/s.
        let levels: [Double] = [1500, 1450, 1300, 1100, 1800, 1790]
        let out = try runChain([PlausibilityLimits.only(fall: 20)], levels, times: [0, 10, 20, 30, 40, 50])
        #expect(out.map(\.verdict.isPlausible) == [true, true, true, true, true, true])
        // 1300 -> 1000 in 10 s is 30 ml/s: impossible.
        let spike = try runChain([PlausibilityLimits.only(fall: 20)], [1300, 1000], times: [0, 10])
        #expect(spike[1].verdict == .implausible(reason: "fell 30 per second, faster than 20"))
        #expect(spike[1].value == nil)
    }

    @Test("with maxRisePerSecond set, a fast rise is rejected too")
    func riseLimited() throws {
        let out = try runChain([PlausibilityLimits.only(rise: 5)], [100, 140, 200], times: [0, 10, 20])
        #expect(out[1].verdict == .plausible)
        #expect(out[2].verdict == .implausible(reason: "rose 6 per second, faster than 5"))
    }

    @Test("rates are measured from the last accepted value, so a spike's return is accepted")
    func rateFromLastAccepted() throws {
        let out = try runChain([PlausibilityLimits.only(fall: 20)], [1000, 0, 995, 990],
                               times: [0, 10, 20, 30])
        #expect(out.map(\.verdict.isPlausible) == [true, false, true, true])
    }

    @Test("a real jump beyond the limit is accepted once enough time has passed to cover it")
    func jumpSettlesWithTime() throws {
        // Rise limited to 1/s; the value really jumped by 100 at t = 10.
        let out = try runChain([PlausibilityLimits.only(rise: 1)], [0, 100, 100, 100, 100],
                               times: [0, 10, 50, 100, 110])
        #expect(out.map(\.verdict.isPlausible) == [true, false, false, true, true])
    }

    @Test("samples with no elapsed monotonic time are not rate-checked")
    func noElapsedTime() throws {
        let out = try runChain([PlausibilityLimits.only(fall: 1)], [100, 50], times: [5, 5])
        #expect(out[1].verdict == .plausible)
    }

    @Test("stuck: identical raw samples stuckAfter times in a row are implausible until it moves")
    func stuckConverter() throws {
        // A recorded ADS1115 that died mid-sequence: noise, then the same code every time.
        let raw: [Double] = [8121, 8119, 8124, 8120, 7702, 7702, 7702, 7702, 7702, 8118, 8122]
        let out = try runChain([PlausibilityLimits.only(stuckAfter: 4)], raw)
        #expect(out.map(\.verdict.isPlausible) == [true, true, true, true, true, true, true, false, false, true, true])
        #expect(out[7].verdict == .implausible(reason: "raw value stuck at 7702 for 4 samples"))
    }

    @Test("stuck tolerance: samples within it count as the same value", arguments: [
        (0.0, [true, true, true, true]), (2.0, [true, true, false, false]),
    ])
    func stuckTolerance(tolerance: Double, expected: [Bool]) throws {
        let out = try runChain([PlausibilityLimits.only(stuckAfter: 3, tolerance: tolerance)], [500, 501, 499, 502])
        #expect(out.map(\.verdict.isPlausible) == expected)
    }

    @Test("stuck compares the source's raw value, not the smoothed one at the stage")
    func stuckUsesRaw() throws {
        // Median 3 turns noisy raw samples into a constant; the converter is alive.
        let raw: [Double] = [10, 12, 11, 12, 11, 12, 11, 12]
        let out = try runChain([.median(window: 3), PlausibilityLimits.only(stuckAfter: 3)], raw)
        #expect(out.allSatisfy { $0.verdict.isPlausible })
    }

    @Test("stuck detection is off unless configured: a level that stays put for days is fine")
    func idleLevel() throws {
        let out = try runChain([PlausibilityLimits.only(min: 0, max: 1800, fall: 20)],
                               Array(repeating: 900, count: 500), times: (0..<500).map { Double($0) * 600 })
        #expect(out.allSatisfy { $0.verdict.isPlausible })
    }
}

extension SampleVerdict {
    var isPlausible: Bool { self == .plausible }
}
