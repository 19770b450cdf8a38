import FoundationEssentials
import ReplenishCore

/// Turns the bytes of a register value, in wire order, into the scaled number. Pure.
public enum I2CRegisterDecoder {
    /// - Parameter bytes: exactly `width / 8` bytes, the one at the lowest register first.
    public static func value(_ bytes: [UInt8], _ settings: I2CRegisterSettings) -> Double {
        let ordered = settings.byteOrder == .big ? bytes : bytes.reversed()
        let raw = ordered.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let bits = settings.width.rawValue
        var integer = Double(raw)
        if settings.signed && raw & (1 << (bits - 1)) != 0 {
            integer -= Double(UInt64(1) << bits)
        }
        return integer * settings.scale + settings.offset
    }
}

/// An `i2c-register` slot: `readRaw()` returns `raw × scale + offset` in the settings' `unit`;
/// the slot's filters (calibrate, median) come after it.
public final class I2CRegisterSource: RawValueSource {
    public let slot: String
    public let sampleIntervalSeconds: Double
    public let settings: I2CRegisterSettings
    public var rawUnit: String { settings.unit }
    private let device: any SMBusDevice
    private let clock: DriverClock

    public init(slot: String, sampleIntervalSeconds: Double, settings: I2CRegisterSettings,
                device: any SMBusDevice, clock: DriverClock = .system) {
        self.slot = slot
        self.sampleIntervalSeconds = sampleIntervalSeconds
        self.settings = settings
        self.device = device
        self.clock = clock
    }

    public func readRaw() throws -> Double {
        let name = "register \(hexAddress(settings.register)) of \(hexAddress(settings.address)) on i2c-\(settings.bus)"
        return try BusRetry.run(retries: settings.retries, clock: clock, device: name) {
            I2CRegisterDecoder.value(try readBytes(), settings)
        }
    }

    /// The value's bytes in wire order (lowest register first).
    private func readBytes() throws -> [UInt8] {
        let count = settings.width.bytes
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        if settings.transfer == .byte || count == 1 {
            for i in 0..<count {
                bytes.append(try device.readByte(register: settings.register &+ UInt8(i)))
            }
        } else {
            for i in stride(from: 0, to: count, by: 2) {
                // An SMBus word read returns the first register in the low byte.
                let word = try device.readWord(register: settings.register &+ UInt8(i))
                bytes.append(UInt8(word & 0xff))
                bytes.append(UInt8(word >> 8))
            }
        }
        return bytes
    }
}
