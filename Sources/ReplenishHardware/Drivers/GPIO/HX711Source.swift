import FoundationEssentials
import ReplenishCore
import Synchronization

/// An `hx711` slot: `readRaw()` returns the signed 24-bit count of one conversion, untared and
/// unscaled; the slot's `calibrate` filter (tare and scale) turns counts into its unit.
///
/// Each clock high phase is timed on the monotonic clock; a reading in which any phase may have
/// reached the chip's power-down limit is discarded (and retried), because the chip may have
/// reset mid-transfer. Run it on a thread that may block for `ready_timeout`.
public final class HX711Source: RawValueSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: HX711Settings
    public let rawUnit = "counts"
    private let clockLine: any GPIOOutput
    private let dataLine: any GPIOInput
    private let clock: DriverClock
    /// Whether the chip's next conversion already uses the configured gain. A chip fresh from
    /// power-up (or from a power-down we caused) converts channel A at gain 128 first.
    /// The lock also keeps two readers from interleaving their clock pulses.
    private let primed: Mutex<Bool>

    /// How often DOUT is polled while waiting for data ready.
    static let readyPollNanoseconds: UInt64 = 1_000_000

    public init(slot: String, sampleIntervalSeconds: Double, settings: HX711Settings,
                clockLine: any GPIOOutput, dataLine: any GPIOInput, clock: DriverClock = .system) {
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.clockLine = clockLine
        self.dataLine = dataLine
        self.clock = clock
        primed = Mutex(settings.gain == .channelA128)
    }

    public func readRaw() throws -> Double {
        try primed.withLock { primed in
            var lastError = HardwareError(.timingViolation, "no attempt made")
            for _ in 0...max(0, settings.retries) {
                do {
                    if !primed {
                        // This conversion ran at the power-on gain; its pulses select ours for the next.
                        _ = try convert()
                        primed = true
                    }
                    return Double(try convert())
                } catch let error as HardwareError {
                    lastError = error
                    // A too-long high phase may have powered the chip down: assume the default gain.
                    if error.code == .timingViolation { primed = settings.gain == .channelA128 }
                    if error.code != .timingViolation { break }
                }
            }
            throw lastError
        }
    }

    /// One transfer: wait for DOUT low, clock out 24 bits MSB first, then the gain pulses.
    private func convert() throws(HardwareError) -> Int32 {
        try waitForReady()
        var bits: UInt32 = 0
        var longestHigh: UInt64 = 0
        do {
            for pulse in 0..<settings.gain.pulses {
                let rise = clock.now()
                try clockLine.write(true)
                // DOUT is valid 0.1 µs after the rising edge (T2); a GPIO ioctl takes longer.
                let bit = pulse < 24 ? try dataLine.read() : false
                try clockLine.write(false)
                let fall = clock.now()
                longestHigh = max(longestHigh, fall &- rise)
                if pulse < 24 { bits = bits << 1 | (bit ? 1 : 0) }
            }
        } catch {
            try? clockLine.write(false)  // never leave PD_SCK high: that powers the chip down
            throw HardwareError(.lineFailure, "HX711 clock \(settings.clockLine) / data \(settings.dataLine): \(error)", cause: error)
        }
        // The measured phase includes the two GPIO calls, so it bounds the real one from above.
        guard longestHigh < HX711Protocol.maximumHighNanoseconds else {
            throw HardwareError(.timingViolation,
                              "clock held high \(longestHigh / 1000) µs (limit \(HX711Protocol.maximumHighNanoseconds / 1000) µs); reading discarded")
        }
        return HX711Protocol.decode(bits)
    }

    private func waitForReady() throws(HardwareError) {
        let deadline = clock.now() &+ settings.readyTimeoutSeconds.nanoseconds
        do {
            while try dataLine.read() {
                guard clock.now() < deadline else {
                    throw HardwareError(.notReady, "HX711 data \(settings.dataLine) not ready within \(settings.readyTimeoutSeconds) s")
                }
                clock.sleep(Self.readyPollNanoseconds)
            }
        } catch let error as HardwareError where error.code.isReadingFailure {
            throw error
        } catch {
            throw HardwareError(.lineFailure, "HX711 data \(settings.dataLine): \(error)", cause: error)
        }
    }
}
