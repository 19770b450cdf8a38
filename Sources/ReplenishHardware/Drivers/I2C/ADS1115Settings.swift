/// Settings of an `ads1115` source: one single-ended channel of a TI ADS1115 16-bit ADC.
public struct ADS1115Settings: Sendable, Equatable {
    /// Full-scale range of the programmable gain amplifier, in volts (datasheet SBAS444, table 8, PGA[2:0]).
    public enum FullScale: Double, Sendable, Equatable, CaseIterable {
        case v6_144 = 6.144, v4_096 = 4.096, v2_048 = 2.048, v1_024 = 1.024, v0_512 = 0.512, v0_256 = 0.256

        /// PGA[2:0], config register bits 11:9.
        var pgaBits: UInt16 {
            switch self {
            case .v6_144: 0b000
            case .v4_096: 0b001
            case .v2_048: 0b010
            case .v1_024: 0b011
            case .v0_512: 0b100
            case .v0_256: 0b101
            }
        }
    }

    /// Samples per second (SBAS444, table 8, DR[2:0]).
    public enum DataRate: Int, Sendable, Equatable, CaseIterable {
        case sps8 = 8, sps16 = 16, sps32 = 32, sps64 = 64, sps128 = 128, sps250 = 250, sps475 = 475, sps860 = 860

        /// DR[2:0], config register bits 7:5.
        var bits: UInt16 {
            UInt16(Self.allCases.firstIndex(of: self)!)
        }
    }

    /// YAML `bus`: the I2C bus number N of `/dev/i2c-N`.
    public var bus: Int
    /// YAML `address`: 0x48 (ADDR to GND, default), 0x49 (VDD), 0x4a (SDA), 0x4b (SCL).
    public var address: UInt8
    /// YAML `channel`: 0 to 3, measured single-ended: AINx against GND.
    public var channel: Int
    /// YAML `full_scale`: volts, one of 6.144, 4.096, 2.048 (default), 1.024, 0.512, 0.256.
    public var fullScale: FullScale
    /// YAML `data_rate`: samples per second, one of 8, 16, 32, 64, 128 (default), 250, 475, 860.
    public var dataRate: DataRate
    /// YAML `retries`: further attempts after a failed transfer (default 3).
    public var retries: Int

    public init(bus: Int, address: UInt8 = 0x48, channel: Int, fullScale: FullScale = .v2_048,
                dataRate: DataRate = .sps128, retries: Int = 3) {
        self.bus = bus
        self.address = address
        self.channel = channel
        self.fullScale = fullScale
        self.dataRate = dataRate
        self.retries = retries
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [SettingsProblem] {
        var problems: [SettingsProblem] = []
        if bus < 0 { problems.append(SettingsProblem("bus", "expected the number N of /dev/i2c-N")) }
        if !(0x48...0x4b).contains(address) { problems.append(SettingsProblem("address", "expected 0x48, 0x49, 0x4a or 0x4b")) }
        if !(0...3).contains(channel) { problems.append(SettingsProblem("channel", "expected 0, 1, 2 or 3")) }
        if !(0...10).contains(retries) { problems.append(SettingsProblem("retries", "expected 0 to 10")) }
        return problems
    }
}
