/// Piecewise-linear map from raw value to slot unit; two points make a single line.
struct Calibration: Sendable, Equatable {
    /// Sorted by raw value, raw values strictly increasing.
    let points: [CalibrationPoint]

    init(_ points: [CalibrationPoint], index: Int) throws(HardwareError) {
        guard points.count >= 2 else {
            throw HardwareError.invalidFilter(index: index, "calibrate needs at least 2 points, got \(points.count)")
        }
        guard points.allSatisfy({ $0.raw.isFinite && $0.value.isFinite }) else {
            throw HardwareError.invalidFilter(index: index, "calibrate points must be finite numbers")
        }
        let sorted = points.sorted { $0.raw < $1.raw }
        for (a, b) in zip(sorted, sorted.dropFirst()) where a.raw == b.raw {
            throw HardwareError.invalidFilter(index: index, "calibrate has two points at raw \(a.raw)")
        }
        self.points = sorted
    }

    /// Interpolates inside the table and extrapolates the end segments outside it.
    func value(forRaw raw: Double) -> Double {
        // The segment whose upper end is the first point above raw, kept within the table.
        var upper = 1
        while upper < points.count - 1 && raw > points[upper].raw { upper += 1 }
        let a = points[upper - 1], b = points[upper]
        return a.value + (raw - a.raw) * (b.value - a.value) / (b.raw - a.raw)
    }
}
