import Glibc

/// A small, fast, seedable generator (SplitMix64), so simulated runs and property tests are reproducible.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in (0, 1].
    public mutating func unit() -> Double { (Double(next() >> 11) + 1) / Double(1 << 53) }

    /// Exponentially distributed with the given mean (waiting time of a Poisson process).
    public mutating func exponential(mean: Double) -> Double { -log(unit()) * mean }

    /// Standard normal (Box-Muller).
    public mutating func normal() -> Double { sqrt(-2 * log(unit())) * cos(2 * .pi * unit()) }

    /// A seed derived from a name (FNV-1a), so each slot gets its own stream.
    public static func seed(from name: String) -> UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }
}
