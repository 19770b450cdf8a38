/// Settings of an `hx711` source: a load cell behind an Avia HX711 24-bit ADC, bit-banged over
/// two GPIO lines.
public struct HX711Settings: Sendable, Equatable {
    /// Input channel and gain of the next conversion, chosen by the number of clock pulses per
    /// reading (HX711 datasheet, table 3: 25 = channel A gain 128, 26 = B 32, 27 = A 64).
    public enum Gain: Int, Sendable, Equatable, CaseIterable {
        case channelA128 = 128
        case channelA64 = 64
        case channelB32 = 32

        /// Clock pulses per reading: 24 data bits plus 1, 3 or 2 that select the next conversion.
        public var pulses: Int {
            switch self {
            case .channelA128: 25
            case .channelA64: 27
            case .channelB32: 26
            }
        }
    }

    /// YAML `clock`: the output line wired to PD_SCK.
    public var clockLine: String
    /// YAML `data`: the input line wired to DOUT.
    public var dataLine: String
    /// YAML `gain`: 128 (channel A, default), 64 (channel A) or 32 (channel B).
    public var gain: Gain
    /// YAML `ready_timeout`: seconds to wait for DOUT to signal data ready (default 0.5: one
    /// conversion at 10 SPS is 100 ms; the first after power-up settles for 400 ms).
    public var readyTimeoutSeconds: Double
    /// YAML `retries`: further attempts after a reading discarded for its timing (default 3).
    public var retries: Int

    public init(clockLine: String, dataLine: String, gain: Gain = .channelA128, readyTimeoutSeconds: Double = 0.5,
                retries: Int = 3) {
        self.clockLine = clockLine
        self.dataLine = dataLine
        self.gain = gain
        self.readyTimeoutSeconds = readyTimeoutSeconds
        self.retries = retries
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [SettingsProblem] {
        var problems: [SettingsProblem] = []
        if clockLine == dataLine { problems.append(SettingsProblem("clock", "must be another line than data")) }
        if !(readyTimeoutSeconds > 0 && readyTimeoutSeconds <= 5) {
            problems.append(SettingsProblem("ready_timeout", "expected more than 0 and at most 5 seconds"))
        }
        if !(0...10).contains(retries) { problems.append(SettingsProblem("retries", "expected 0 to 10")) }
        return problems
    }
}

/// The HX711's data format and timing, without I/O (Avia Semiconductor HX711 datasheet).
public enum HX711Protocol {
    /// PD_SCK high for longer than 60 µs powers the chip down ("Serial Interface" section);
    /// the timing table's maximum high time T3 is 50 µs.
    public static let maximumHighNanoseconds: UInt64 = 60_000

    /// A 24-bit two's complement reading, MSB first, as a signed count. The chip saturates at
    /// 0x7FFFFF and 0x800000 outside its input range; those codes pass through for the filters.
    public static func decode(_ bits: UInt32) -> Int32 {
        Int32(bitPattern: (bits & 0xFF_FFFF) << 8) >> 8
    }
}
