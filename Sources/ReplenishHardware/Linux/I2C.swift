#if canImport(Glibc)
import Glibc
#endif
import CLinuxShims
import Synchronization

/// An open I2C bus, `/dev/i2c-N`, closed in `deinit`. Devices on it share the file descriptor;
/// the address (`I2C_SLAVE`) is selected per transfer under a lock.
///
/// Transfers block the calling thread; use a dedicated thread.
public final class I2CBus: Sendable {
    public let number: Int
    public var path: String { "/dev/i2c-\(number)" }
    let fd: Int32
    /// The address the fd currently talks to; transfers hold this lock.
    let selected = Mutex<UInt16?>(nil)

    /// Opens `/dev/i2c-<number>`. The corresponding C function is `rpl_i2c_open`.
    public init(_ number: Int) throws {
        self.number = number
        let path = "/dev/i2c-\(number)"
        fd = try SystemCall.retryingInterrupts({ rpl_i2c_open(Int32(clamping: number)) }) { code in
            I2CBus.openError(path: path, errno: code)
        }
    }

    deinit {
        close(fd)
    }

    func transfer<T>(address: UInt16, _ body: (Int32) throws -> T) throws -> T {
        try selected.withLock { selected in
            if selected != address {
                selected = nil
                _ = try SystemCall.retryingInterrupts({ rpl_i2c_set_address(fd, address) }) { code in
                    code == EBUSY
                        ? HardwareError(.addressBusy, "address \(hex(address)) on \(path) is claimed by a kernel driver; unbind that driver (see /sys/bus/i2c/devices/\(number)-00\(String(address, radix: 16)))", errno: code)
                        : .failed("selecting address \(hex(address)) on \(path)", errno: code)
                }
                selected = address
            }
            return try body(fd)
        }
    }

    static func openError(path: String, errno code: Int32, deviceDirectory: String = "/dev") -> HardwareError {
        switch code {
        case EACCES, EPERM:
            return .permissionDenied(path: path, errno: code)
        case ENOENT, ENODEV, ENXIO:
            return busNotFound(path: path, found: DeviceAccess.numberedEntries(in: deviceDirectory, prefix: "i2c-"), errno: code)
        default:
            return .failed("opening \(path)", errno: code)
        }
    }

    /// "no I2C bus /dev/i2c-99 (found: i2c-1); ..." with what to check.
    static func busNotFound(path: String, found: [String], errno code: Int32? = ENOENT) -> HardwareError {
        let list = found.isEmpty
            ? "found: none; load the i2c-dev module (modprobe i2c-dev) and enable the bus (e.g. dtparam=i2c_arm=on)"
            : "found: \(found.joined(separator: ", ")); check the bus number, and that i2c-dev is loaded"
        return HardwareError(.busNotFound, "no I2C bus \(path) (\(list))", errno: code)
    }
}

/// SMBus transfers to one address on an `I2CBus`.
public final class I2CDevice: SMBusDevice {
    public let bus: I2CBus
    public let address: UInt16

    public init(bus: I2CBus, address: UInt16) throws {
        guard address <= 0x7F else {
            throw HardwareError(.invalidSpec, "I2C address \(hex(address)) on \(bus.path) is not a 7-bit address (0x00...0x7f)")
        }
        self.bus = bus
        self.address = address
    }

    /// Opens the bus and addresses the device in one step.
    public convenience init(bus number: Int, address: UInt16) throws {
        try self.init(bus: I2CBus(number), address: address)
    }

    private func failure(_ operation: String, _ register: UInt8) -> (Int32) -> HardwareError {
        { code in
            let hint = (code == ENXIO || code == EREMOTEIO) ? " (no device answered at \(hex(self.address)); check wiring and address)" : ""
            return HardwareError(.transferFailed, "SMBus \(operation) register \(hex(register)) of \(hex(self.address)) on \(self.bus.path) failed: \(errnoText(code))\(hint)", errno: code)
        }
    }

    /// SMBus read byte data. The corresponding C function is `rpl_i2c_smbus_read_byte_data`.
    public func readByte(register: UInt8) throws -> UInt8 {
        try bus.transfer(address: address) { fd in
            UInt8(try SystemCall.retryingInterrupts({ rpl_i2c_smbus_read_byte_data(fd, register) }, error: failure("read of", register)))
        }
    }

    /// SMBus read word data (low byte first on the wire). The corresponding C function is
    /// `rpl_i2c_smbus_read_word_data`.
    public func readWord(register: UInt8) throws -> UInt16 {
        try bus.transfer(address: address) { fd in
            UInt16(try SystemCall.retryingInterrupts({ rpl_i2c_smbus_read_word_data(fd, register) }, error: failure("read of", register)))
        }
    }

    public func writeWord(register: UInt8, value: UInt16) throws {
        try bus.transfer(address: address) { fd in
            _ = try SystemCall.retryingInterrupts({ rpl_i2c_smbus_write_word_data(fd, register, value) }, error: failure("write to", register))
        }
    }
}

func hex<T: BinaryInteger>(_ value: T) -> String {
    let digits = String(value, radix: 16)
    return "0x" + (digits.count < 2 ? "0" + digits : digits)
}
