#if canImport(Glibc)
import Glibc
#endif

/// The one error type of ReplenishHardware: why a GPIO line or I2C device could not be used, why
/// a driver could not produce a reading, or why a filter list cannot work, with a message that
/// names the chip, line, bus or filter and says what to do.
///
/// The agent maps every driver failure to the slot's health (`fault` for bus and timing failures
/// that outlast the retries, `degraded` for an inconsistent reading); a driver never traps on bad
/// hardware. A filter list is checked when the chain is built, so `replenishd check` reports it
/// without hardware.
public struct HardwareError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an open set: new codes can be added without breaking callers.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        /// Whether the code is a driver's verdict on a reading (its description leads with the code).
        let isReadingFailure: Bool

        init(name: String, isReadingFailure: Bool = false) {
            self.name = name
            self.isReadingFailure = isReadingFailure
        }

        // Opening and using lines and buses.
        public static let chipNotFound = Code(name: "chipNotFound")
        public static let lineNotFound = Code(name: "lineNotFound")
        public static let lineBusy = Code(name: "lineBusy")
        public static let permissionDenied = Code(name: "permissionDenied")
        public static let busNotFound = Code(name: "busNotFound")
        public static let addressBusy = Code(name: "addressBusy")
        public static let unsupported = Code(name: "unsupported")
        public static let invalidSpec = Code(name: "invalidSpec")
        public static let transferFailed = Code(name: "transferFailed")

        // A driver's reading.
        /// An I2C transfer kept failing after every retry.
        public static let busFailure = Code(name: "busFailure", isReadingFailure: true)
        /// An ADC conversion did not finish within its bound.
        public static let conversionTimeout = Code(name: "conversionTimeout", isReadingFailure: true)
        /// A chip did not signal data ready in time (HX711 DOUT stayed high).
        public static let notReady = Code(name: "notReady", isReadingFailure: true)
        /// A bit-banged transfer missed the chip's timing; the reading was discarded.
        public static let timingViolation = Code(name: "timingViolation", isReadingFailure: true)
        /// The sensors of one slot contradict each other (a float switch wet above a dry one).
        public static let inconsistentReading = Code(name: "inconsistentReading", isReadingFailure: true)
        /// A GPIO line read or event wait failed.
        public static let lineFailure = Code(name: "lineFailure", isReadingFailure: true)

        // A slot's filters.
        /// A filter whose settings cannot work; `filterIndex` says which.
        public static let invalidFilter = Code(name: "invalidFilter")

        public var description: String { name }
    }

    public var code: Code
    /// What happened, for the journal and `replenishd probe`.
    public var message: String
    /// The errno behind the error, when a system call failed (kept through a driver's wrapping).
    public var errno: Int32?
    /// The code of the line or bus failure behind a driver's error, when there was one.
    public var causeCode: Code?
    /// For `.invalidFilter`: the filter's position in the configured list, from 0.
    public var filterIndex: Int?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    /// A driver's error wrapping `cause`: the line or bus failure's code and errno survive the
    /// wrapping (the message already says it in words).
    public init(_ code: Code, _ message: String, cause: (any Error)?) {
        let cause = cause as? HardwareError
        self.init(code, message, errno: cause?.errno)
        causeCode = cause.flatMap { $0.code.isReadingFailure ? $0.causeCode : $0.code }
    }

    /// A filter list that cannot work: `index` is the filter's position in the configured list.
    public static func invalidFilter(index: Int, _ message: String) -> HardwareError {
        var error = HardwareError(.invalidFilter, message)
        error.filterIndex = index
        return error
    }

    public var description: String {
        if let filterIndex { return "filter \(filterIndex + 1): \(message)" }
        return code.isReadingFailure ? "\(code): \(message)" : message
    }
}

extension HardwareError {
    /// A call on an already open device failed (`what` says which, e.g. "reading GPIO17 on gpiochip0").
    static func failed(_ what: String, errno code: Int32) -> HardwareError {
        HardwareError(.transferFailed, "\(what) failed: \(errnoText(code))", errno: code)
    }

    /// "cannot open PATH: permission denied; add the service user to group 'GROUP'", the group
    /// read from the device file, or advice for a udev rule when the device belongs to root.
    static func permissionDenied(path: String, errno code: Int32 = EACCES) -> HardwareError {
        permissionDenied(path: path, group: DeviceAccess.group(of: path), errno: code)
    }

    static func permissionDenied(path: String, group: String?, errno code: Int32 = EACCES) -> HardwareError {
        // EPERM on open is not the file's mode (that is EACCES) but a device policy: under systemd,
        // DevicePolicy=closed with a DeviceAllow= that does not cover this device's major.
        if code == EPERM {
            let i2c = path.contains("i2c")
            let advice = i2c
                ? "the service's device policy (DeviceAllow=char-i2c) did not cover it: the i2c-dev module was not loaded when the service started; load it at boot (modules-load.d, as the package's /usr/lib/modules-load.d/replenishd.conf does), then restart the service"
                : "the service's device policy (DeviceAllow=char-gpiochip) did not cover it: the gpiochip driver was not there when the service started; restart the service"
            return HardwareError(.permissionDenied, "cannot open \(path): not permitted by the device policy; \(advice)", errno: code)
        }
        let advice: String
        switch group {
        case nil:
            advice = "check its owner and mode (ls -l \(path))"
        case "root"?:
            advice = "it belongs to group 'root': add a udev rule giving it to a group such as "
                + "'\(path.contains("i2c") ? "i2c" : "gpio")' and add the service user to that group"
        case "nogroup"?, "nobody"?:
            // Under PrivateUsers=yes every group but the service's own shows as nogroup.
            advice = "its group is not visible here (a user namespace such as systemd's PrivateUsers=yes shows it as 'nogroup'): check ls -l \(path) outside the service and give the service that group (SupplementaryGroups=)"
        case let group?:
            advice = "add the service user to group '\(group)'"
        }
        return HardwareError(.permissionDenied, "cannot open \(path): permission denied; \(advice)", errno: code)
    }
}

/// strerror text without relying on a thread-unsafe buffer.
func errnoText(_ code: Int32) -> String {
    var buffer = [CChar](repeating: 0, count: 256)
    // Glibc's strerror_r as Swift imports it is the XSI one: 0 on success, text in the buffer.
    guard strerror_r(code, &buffer, buffer.count) == 0 else { return "errno \(code)" }
    return string(fromCBuffer: buffer)
}

/// The text up to the first NUL of a C character buffer.
func string(fromCBuffer buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
