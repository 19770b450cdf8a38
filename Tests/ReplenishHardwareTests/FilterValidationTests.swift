import Testing
@testable import ReplenishHardware

@Suite("Filter: settings checked when the chain is built")
struct FilterValidationTests {
    static let p = CalibrationPoint.init(raw:value:)

    @Test("filters that cannot work are refused with their position and why", arguments: [
        (SensorFilter.calibrate(points: [p(1, 1)]), "calibrate needs at least 2 points, got 1"),
        (.calibrate(points: [p(1, 1), p(1, 2)]), "calibrate has two points at raw 1.0"),
        (.calibrate(points: [p(1, 1), p(.nan, 2)]), "calibrate points must be finite numbers"),
        (.median(window: 0), "median window must be 1...99, not 0"),
        (.median(window: 100), "median window must be 1...99, not 100"),
        (.clamp(min: nil, max: nil), "clamp needs a min, a max or both"),
        (.clamp(min: 5, max: 1), "clamp min 5.0 is above max 1.0"),
        (.delta(modulus: 0), "delta modulus must be a positive number, not 0.0"),
        (.plausibility(PlausibilityLimits()), "plausibility checks nothing: set min, max, maxRisePerSecond, maxFallPerSecond or stuckAfter"),
        (PlausibilityLimits.only(min: 10, max: 0), "plausibility min 10.0 is above max 0.0"),
        (PlausibilityLimits.only(fall: -1), "plausibility maxFallPerSecond must be a positive number, not -1.0"),
        (PlausibilityLimits.only(stuckAfter: 1), "plausibility stuckAfter must be at least 2 samples, not 1"),
        (PlausibilityLimits.only(stuckAfter: 3, tolerance: -1), "plausibility stuckTolerance must be 0 or more"),
    ])
    func refused(filter: SensorFilter, message: String) {
        #expect(throws: HardwareError.invalidFilter(index: 1, message)) {
            try FilterChain([.median(window: 3), filter])
        }
    }

    @Test("the error names the filter by its position in the config, counting from 1")
    func description() {
        #expect(HardwareError.invalidFilter(index: 1, "median window must be 1...99, not 0").description
                == "filter 2: median window must be 1...99, not 0")
    }

    @Test("good settings build", arguments: [
        [SensorFilter](),
        [.calibrate(points: [p(0, 0), p(10, 1)]), .median(window: 1), .median(window: 99), .clamp(min: 0, max: nil),
         .delta(modulus: 65536), .delta(modulus: nil), PlausibilityLimits.only(stuckAfter: 2)],
    ])
    func accepted(filters: [SensorFilter]) throws {
        #expect(try FilterChain(filters).filters == filters)
    }
}

@Suite("Filter: descriptions for probe")
struct FilterDescriptionTests {
    @Test("each filter reads like its config entry", arguments: [
        (SensorFilter.calibrate(points: [CalibrationPoint(raw: 2400, value: 0), CalibrationPoint(raw: 13200, value: 1800.5)]),
         "calibrate: [[2400, 0], [13200, 1800.5]]"),
        (.median(window: 5), "median: 5"),
        (.clamp(min: 0, max: nil), "clamp: [0, null]"),
        (.delta(modulus: 65536), "delta: {modulus: 65536}"),
        (.delta(modulus: nil), "delta: {}"),
        (PlausibilityLimits.only(min: 0, max: 1900, fall: 20, stuckAfter: 20, tolerance: 1),
         "plausibility: {min: 0, max: 1900, maxFallPerSecond: 20, stuckAfter: 20, stuckTolerance: 1}"),
    ])
    func description(filter: SensorFilter, expected: String) {
        #expect(filter.description == expected)
    }
}
