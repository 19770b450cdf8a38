/// Why a driver could not produce a reading. The agent maps every one of these to the slot's
/// health (`fault` for bus and timing failures that outlast the retries, `degraded` for an
/// inconsistent reading); a driver never traps on bad hardware.
public struct SensorError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, Equatable {
        /// An I2C transfer kept failing after every retry.
        case busFailure
        /// An ADC conversion did not finish within its bound.
        case conversionTimeout
        /// A chip did not signal data ready in time (HX711 DOUT stayed high).
        case notReady
        /// A bit-banged transfer missed the chip's timing; the reading was discarded.
        case timingViolation
        /// The sensors of one slot contradict each other (a float switch wet above a dry one).
        case inconsistentReading
        /// A GPIO line read or event wait failed.
        case lineFailure
        /// Settings that cannot work (checked before touching hardware).
        case invalidSettings
    }

    public var code: Code
    /// What happened, for the journal and `replenishd probe`.
    public var message: String
    /// The line or bus failure behind it, when there was one: its code and errno survive the
    /// wrapping (the message already says it in words).
    public var cause: HardwareError?

    public init(_ code: Code, _ message: String, cause: (any Error)? = nil) {
        self.code = code
        self.message = message
        self.cause = (cause as? HardwareError) ?? (cause as? SensorError)?.cause
    }

    /// The errno of the system call that failed, when one did.
    public var errno: Int32? { cause?.errno }

    public var description: String { "\(code.rawValue): \(message)" }
}
