#if canImport(Glibc)
import Glibc
#endif

/// Why a GPIO line or I2C device could not be used, with a message that names the chip, line or
/// bus and says what to do. The one error type of the Linux hardware layer.
public struct HardwareError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let name: String
        public static let chipNotFound = Code(name: "chipNotFound")
        public static let lineNotFound = Code(name: "lineNotFound")
        public static let lineBusy = Code(name: "lineBusy")
        public static let permissionDenied = Code(name: "permissionDenied")
        public static let busNotFound = Code(name: "busNotFound")
        public static let addressBusy = Code(name: "addressBusy")
        public static let unsupported = Code(name: "unsupported")
        public static let invalidSpec = Code(name: "invalidSpec")
        public static let transferFailed = Code(name: "transferFailed")
        public var description: String { name }
    }

    public var code: Code
    public var message: String
    /// The errno behind the error, when a system call failed.
    public var errno: Int32?

    public init(_ code: Code, _ message: String, errno: Int32? = nil) {
        self.code = code
        self.message = message
        self.errno = errno
    }

    public var description: String { message }
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
