import CMosquitto
#if canImport(Glibc)
import Glibc
#endif

/// The one error type of ReplenishMQTT: a code to switch on, a message for the log, and errno
/// where a system call failed.
public struct MQTTError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, as an open set: new codes can be added without breaking callers.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// There is no live connection; republish after the next `.connected`.
        public static let notConnected = Code(rawValue: "notConnected")
        /// An option, topic, filter, QoS or payload that libmosquitto or the broker cannot accept.
        public static let invalidArgument = Code(rawValue: "invalidArgument")
        /// A libmosquitto call failed for another reason (see `mosquittoResult`).
        public static let mosquitto = Code(rawValue: "mosquitto")
        /// The local test broker could not be started or stopped.
        public static let broker = Code(rawValue: "broker")
        /// A system call failed (see the message for errno text).
        public static let system = Code(rawValue: "system")
    }

    public var code: Code
    public var message: String
    /// The `MOSQ_ERR_*` value when the error came from libmosquitto.
    public var mosquittoResult: Int32?
    /// The errno behind the error: given, or read when libmosquitto reports `MOSQ_ERR_ERRNO`.
    public var errno: Int32?

    public init(code: Code, message: String, mosquittoResult: Int32? = nil, errno: Int32? = nil) {
        self.code = code
        self.mosquittoResult = mosquittoResult
        self.errno = errno ?? (mosquittoResult == Int32(MOSQ_ERR_ERRNO.rawValue) ? Glibc.errno : nil)
        if let mosquittoResult {
            self.message = "\(message): \(MosquittoLibrary.describe(mosquittoResult))"
        } else {
            self.message = message
        }
    }

    public var description: String { "MQTTError(\(code)): \(message)" }
}
