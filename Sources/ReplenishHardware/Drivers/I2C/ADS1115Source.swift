import FoundationEssentials
import ReplenishCore

/// An `ads1115` slot: one single-shot conversion per sample. `readRaw()` returns volts at the
/// pin (not yet calibrated); the slot's `calibrate` filter turns volts into its unit.
public final class ADS1115Source: RawValueSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: ADS1115Settings
    public let rawUnit = "V"
    private let device: any SMBusDevice
    private let clock: DriverClock

    /// How many times the OS bit is polled after the nominal conversion time before giving up;
    /// with a tenth of the conversion time between polls the bound is twice the conversion time.
    static let maxPolls = 10

    public init(slot: String, sampleIntervalSeconds: Double, settings: ADS1115Settings,
                device: any SMBusDevice, clock: DriverClock = .system) {
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.device = device
        self.clock = clock
    }

    public func readRaw() throws -> Double {
        let name = "ADS1115 at \(hexAddress(settings.address)) on i2c-\(settings.bus)"
        return try BusRetry.run(retries: settings.retries, clock: clock, device: name) { try convertOnce() }
    }

    private func convertOnce() throws -> Double {
        typealias C = ADS1115Conversion
        try device.writeWord(register: C.configRegister,
                             value: WireOrder.smbusWord(forBigEndianRegister: C.configWord(settings)))
        let conversion = C.conversionNanoseconds(settings.dataRate)
        clock.sleep(conversion)
        var polls = 0
        while !C.isDone(config: WireOrder.bigEndianRegister(fromSMBusWord: try device.readWord(register: C.configRegister))) {
            polls += 1
            guard polls <= Self.maxPolls else {
                throw HardwareError(.conversionTimeout, "conversion not done after \(2 * conversion / 1000) µs")
            }
            clock.sleep(conversion / 10)
        }
        let raw = WireOrder.bigEndianRegister(fromSMBusWord: try device.readWord(register: C.conversionRegister))
        return C.volts(conversion: raw, fullScale: settings.fullScale)
    }
}
