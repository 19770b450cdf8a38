/// The last `window` values and their median.
struct MedianWindow: Sendable, Equatable {
    let window: Int
    private var values: [Double] = []
    private var next = 0

    init(window: Int) {
        self.window = window
        values.reserveCapacity(window)
    }

    /// Adds a value and returns the median of the window (of what is there until it is full).
    mutating func add(_ value: Double) -> Double {
        if values.count < window {
            values.append(value)
        } else {
            values[next] = value
        }
        next = (next + 1) % window
        let sorted = values.sorted()
        let mid = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
    }
}
