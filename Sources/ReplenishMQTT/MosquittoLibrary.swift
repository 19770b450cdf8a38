import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

/// Process-wide libmosquitto setup and small helpers around its result codes.
enum MosquittoLibrary {
    /// Swift runs a global's initializer exactly once, thread-safely: our once-guard.
    private static let initialized: Bool = {
        mosquitto_lib_init()
        return true
    }()

    /// Calls `mosquitto_lib_init` the first time, and never again.
    static func initializeOnce() {
        _ = initialized
    }

    /// The text of a `MOSQ_ERR_*` code; for `MOSQ_ERR_ERRNO` the current errno's text.
    /// The corresponding C function is `mosquitto_strerror`.
    static func describe(_ result: Int32) -> String {
        if result == Int32(MOSQ_ERR_ERRNO.rawValue) {
            return "\(String(cString: strerror(errno))) (errno \(errno))"
        }
        return String(cString: mosquitto_strerror(result))
    }

    /// The text of an MQTT 5 reason code with the code itself, e.g. `Not authorized (0x87)`.
    /// The corresponding C function is `mosquitto_reason_string`.
    static func describe(reasonCode: UInt8) -> String {
        let hex = String(reasonCode, radix: 16, uppercase: false)
        return "\(String(cString: mosquitto_reason_string(Int32(reasonCode)))) (0x\(hex.count < 2 ? "0" + hex : hex))"
    }

    static let success = Int32(MOSQ_ERR_SUCCESS.rawValue)
}
