import Testing
@testable import ReplenishHardware

@Suite("Filter: calibrate")
struct FilterCalibrationTests {
    /// An ADS1115 on a pressure sensor: 2400 counts empty, 13200 counts at 1800 ml.
    static let linear = [CalibrationPoint(raw: 2400, value: 0), CalibrationPoint(raw: 13200, value: 1800)]
    /// A tank that narrows at the bottom, measured at the bench; listed out of order on purpose.
    static let tank = [CalibrationPoint(raw: 400, value: 1000), CalibrationPoint(raw: 100, value: 0),
                       CalibrationPoint(raw: 200, value: 200), CalibrationPoint(raw: 300, value: 600)]

    @Test("two points give the line through them, extrapolated on both sides", arguments: [
        (2400.0, 0.0), (13200, 1800), (7800, 900), (4200, 300), (0, -400), (14400, 2000),
    ])
    func linear(raw: Double, expected: Double) throws {
        let out = try runChain([.calibrate(points: Self.linear)], [raw])
        #expect(isClose(out[0].value, expected))
    }

    @Test("a falling line (raw counts down as the level rises) works the same", arguments: [
        (1000.0, 0.0), (0, 500), (500, 250), (1200, -100),
    ])
    func inverted(raw: Double, expected: Double) throws {
        let points = [CalibrationPoint(raw: 0, value: 500), CalibrationPoint(raw: 1000, value: 0)]
        #expect(isClose(try runChain([.calibrate(points: points)], [raw])[0].value, expected))
    }

    @Test("more points interpolate within each segment, sorted by raw", arguments: [
        (100.0, 0.0), (150, 100), (200, 200), (250, 400), (300, 600), (350, 800), (400, 1000),
    ])
    func piecewise(raw: Double, expected: Double) throws {
        #expect(isClose(try runChain([.calibrate(points: Self.tank)], [raw])[0].value, expected))
    }

    @Test("beyond the table the end segments are extrapolated", arguments: [
        (50.0, -100.0), (0, -200), (450, 1200), (500, 1400),
    ])
    func piecewiseExtrapolates(raw: Double, expected: Double) throws {
        #expect(isClose(try runChain([.calibrate(points: Self.tank)], [raw])[0].value, expected))
    }

    @Test("calibrate then clamp bounds the extrapolated ends")
    func clampAfter() throws {
        let out = try runChain([.calibrate(points: Self.tank), .clamp(min: 0, max: 1000)], [50, 250, 500])
        #expect(out.map(\.value) == [0, 400, 1000])
        #expect(out.map { $0.stages.last?.note } == [.clamped, nil, .clamped])
    }
}
