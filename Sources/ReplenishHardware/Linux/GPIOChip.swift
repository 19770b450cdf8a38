#if canImport(Glibc)
import Glibc
#endif
import CLinuxShims
import Synchronization

/// An open GPIO chip (libgpiod 1.6 or 2.x through CLinuxShims); closed in `deinit`.
///
/// Lines requested from it keep it open. Calls block the calling thread; use a dedicated thread.
public final class GPIOChip: @unchecked Sendable {
    // @unchecked: the handle is immutable and every call on it is serialized by `lock`.
    let handle: OpaquePointer
    let lock = Mutex(())
    /// Kernel name, "gpiochip0".
    public let name: String
    /// Chip label, "pinctrl-bcm2835".
    public let label: String
    /// Device path, "/dev/gpiochip0".
    public let path: String

    /// Opens a chip by path, name or label (labels are found by scanning /dev/gpiochip*).
    /// The corresponding C function is `rpl_gpio_chip_open`.
    public init(_ chip: LineSpec.Chip) throws {
        handle = try SystemCall.retryingInterrupts({ rpl_gpio_chip_open(chip.spec) }) { code in
            GPIOChip.openError(chip, errno: code)
        }
        name = String(cString: rpl_gpio_chip_name(handle))
        label = String(cString: rpl_gpio_chip_label(handle))
        path = String(cString: rpl_gpio_chip_path(handle))
    }

    deinit {
        rpl_gpio_chip_close(handle)
    }

    /// "gpiochip0 [pinctrl-bcm2835]", as in messages and `gpiodetect`.
    public var displayName: String { "\(name) [\(label)]" }

    /// The offset of a line given by name or offset, checked against the chip's line count.
    public func offset(of line: LineSpec.Line) throws -> UInt32 {
        try lock.withLock { _ in
            switch line {
            case .offset(let offset):
                let count = rpl_gpio_chip_num_lines(handle)
                guard count < 0 || offset < UInt32(count) else {
                    throw HardwareError(.lineNotFound, "chip \(displayName) has no line \(offset) (it has \(count) lines, 0...\(count - 1))")
                }
                return offset
            case .name(let lineName):
                let offset = rpl_gpio_chip_find_line(handle, lineName)
                guard offset >= 0 else {
                    throw HardwareError(.lineNotFound, "chip \(displayName) has no line named '\(lineName)'; `gpioinfo \(name)` lists its lines", errno: Glibc.errno)
                }
                return UInt32(offset)
            }
        }
    }

    /// The consumer holding the line, or nil when it is free or cannot be read.
    public func consumer(ofLine offset: UInt32) -> String? {
        lock.withLock { _ in
            var buffer = [CChar](repeating: 0, count: 64)
            guard rpl_gpio_line_consumer(handle, offset, &buffer, buffer.count) == 1 else { return nil }
            return string(fromCBuffer: buffer)
        }
    }

    /// Turns a failed line request into a message naming the line and what to do.
    func requestError(line: LineSpec.Line, offset: UInt32, errno code: Int32) -> HardwareError {
        let lineText = line.description
        switch code {
        case EBUSY:
            let holder = consumer(ofLine: offset).map { $0.isEmpty ? "another program" : "'\($0)'" } ?? "another program"
            return HardwareError(.lineBusy, "\(lineText) on \(name) is in use by \(holder); stop it or pick another line (`gpioinfo \(name)`)", errno: code)
        case EACCES, EPERM:
            return .permissionDenied(path: path, errno: code)
        case EINVAL:
            return HardwareError(.unsupported, "requesting \(lineText) on \(displayName) was refused (\(errnoText(code))): the kernel or chip may not support the requested bias or edge detection", errno: code)
        default:
            return .failed("requesting \(lineText) on \(displayName)", errno: code)
        }
    }

    static func openError(_ chip: LineSpec.Chip, errno code: Int32, deviceDirectory: String = "/dev") -> HardwareError {
        switch code {
        case EACCES, EPERM:
            if case .label = chip {
                let denied = availableChips(in: deviceDirectory).first { $0.label == nil }
                return .permissionDenied(path: denied?.path ?? "\(deviceDirectory)/gpiochip*", errno: code)
            }
            let path = chip.spec.hasPrefix("/") ? chip.spec : "\(deviceDirectory)/\(chip.spec)"
            return .permissionDenied(path: path, errno: code)
        case ENOENT, ENODEV, ENOTTY:
            return chipNotFound(chip, found: availableChips(in: deviceDirectory), errno: code)
        default:
            return .failed("opening GPIO chip '\(chip.spec)'", errno: code)
        }
    }

    /// "no GPIO chip 'x' (found: gpiochip0 [pinctrl-bcm2835], gpiochip1 [no access])"; a nil label
    /// means permission was denied.
    static func chipNotFound(_ chip: LineSpec.Chip, found: [(path: String, name: String, label: String?)], errno code: Int32? = ENOENT) -> HardwareError {
        let list = found.isEmpty
            ? "found: none; is the board's GPIO driver (or gpio-sim) loaded?"
            : "found: " + found.map { "\($0.name) [\($0.label ?? "no access")]" }.joined(separator: ", ")
        return HardwareError(.chipNotFound, "no GPIO chip '\(chip.spec)' (\(list))", errno: code)
    }

    /// Every /dev/gpiochip* with its label; nil when permission is denied, the reason when it
    /// cannot be opened otherwise.
    static func availableChips(in directory: String = "/dev") -> [(path: String, name: String, label: String?)] {
        DeviceAccess.numberedEntries(in: directory, prefix: "gpiochip").map { name in
            let path = "\(directory)/\(name)"
            guard let chip = rpl_gpio_chip_open(path) else {
                let code = Glibc.errno
                return (path, name, code == EACCES || code == EPERM ? nil : "cannot open: \(errnoText(code))")
            }
            defer { rpl_gpio_chip_close(chip) }
            return (path, name, String(cString: rpl_gpio_chip_label(chip)))
        }
    }
}
