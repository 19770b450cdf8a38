import FoundationEssentials
import ReplenishCore

/// Settings of a `max17048` source: a Maxim/Analog Devices MAX17048 single-cell fuel gauge.
public struct MAX17048Settings: Sendable, Equatable {
    /// YAML `bus`: the I2C bus number N of `/dev/i2c-N`.
    public var bus: Int
    /// YAML `address`: 0x36, the chip's only address (datasheet 19-6171, "I2C Bus System").
    public var address: UInt8
    /// YAML `retries`: further attempts after a failed transfer (default 3).
    public var retries: Int

    public init(bus: Int, address: UInt8 = 0x36, retries: Int = 3) {
        self.bus = bus
        self.address = address
        self.retries = retries
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [String] {
        var problems: [String] = []
        if bus < 0 { problems.append("bus: expected the number N of /dev/i2c-N") }
        if address > 0x7f { problems.append("address: expected a 7-bit I2C address") }
        if !(0...10).contains(retries) { problems.append("retries: expected 0 to 10") }
        return problems
    }
}

/// The MAX17048's registers and their units, without I/O. Addresses and LSB weights are from
/// the MAX17048/MAX17049 datasheet (19-6171), table 2 "Register Summary".
public enum MAX17048Registers {
    public static let soc: UInt8 = 0x04

    /// SOC: high byte whole percent, low byte 1/256 %. May read above 100 right after a reset.
    public static func percent(soc: UInt16) -> Double { Double(soc) / 256 }
}

/// A `max17048` slot: `readRaw()` returns the state of charge in percent (fit for a `Percentage`
/// slot without calibration).
public final class MAX17048Source: RawValueSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: MAX17048Settings
    public let rawUnit = "%"
    private let device: any SMBusDevice
    private let clock: DriverClock

    public init(slot: String, sampleIntervalSeconds: Double, settings: MAX17048Settings,
                device: any SMBusDevice, clock: DriverClock = .system) {
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.device = device
        self.clock = clock
    }

    private var name: String { "MAX17048 at \(hexAddress(settings.address)) on i2c-\(settings.bus)" }

    public func readRaw() throws -> Double {
        try BusRetry.run(retries: settings.retries, clock: clock, device: name) { try readPercent() }
    }

    private func readPercent() throws -> Double {
        MAX17048Registers.percent(soc: WireOrder.bigEndianRegister(fromSMBusWord: try device.readWord(register: MAX17048Registers.soc)))
    }
}
