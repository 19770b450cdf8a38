/// A token bucket for `mqtt.max_publish_rate`: `rate` tokens a second, at most `burst` saved up,
/// so that in any `t` seconds at most `rate × t + burst` messages go out. Pure: the caller gives
/// the time, in seconds of a monotonic clock.
struct TokenBucket: Sendable, Equatable {
    let rate: Double
    let burst: Double
    private var tokens: Double
    private var updatedAt: Double?

    /// `burst` defaults to a tenth of a second's tokens (at least one).
    init(rate: Double, burst: Double? = nil) {
        precondition(rate > 0, "a token bucket needs a positive rate")
        self.rate = rate
        self.burst = max(1, burst ?? rate / 10)
        tokens = self.burst
    }

    /// Takes one token at `now`: nil when there was one, else the seconds until there will be.
    mutating func take(at now: Double) -> Double? {
        refill(at: now)
        guard tokens >= 1 else { return (1 - tokens) / rate }
        tokens -= 1
        return nil
    }

    /// Spends one token whether or not there is one (a message that must not wait, such as the
    /// birth): later messages wait for it.
    mutating func spend(at now: Double) {
        refill(at: now)
        tokens -= 1
    }

    private mutating func refill(at now: Double) {
        if let updatedAt { tokens = min(burst, tokens + max(0, now - updatedAt) * rate) }
        updatedAt = max(now, updatedAt ?? now)
    }
}
