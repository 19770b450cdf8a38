/// Exponential backoff with full jitter: after `n` failed attempts wait
/// `random(0, min(maximum, minimum * 2^n))`, but never less than `minimum`.
struct ReconnectBackoff: Sendable {
    var minimum: Double
    var maximum: Double

    func delay(
        afterFailures failures: Int,
        random: (ClosedRange<Double>) -> Double = { Double.random(in: $0) }
    ) -> Double {
        let exponent = Swift.min(Swift.max(failures, 0), 52)
        let cap = Swift.min(maximum, minimum * Double(UInt64(1) << UInt64(exponent)))
        return Swift.max(minimum, random(0...Swift.max(cap, 0)))
    }
}
