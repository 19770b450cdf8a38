/// The few hardware operations the drivers need, as protocols: the Linux implementations
/// (libgpiod, i2c-dev) sit behind them, and driver logic is tested against recorded sequences.

/// One edge seen on an input line, with the kernel's timestamp.
public struct GPIOEdgeEvent: Sendable, Equatable {
    public enum Edge: Sendable, Equatable {
        case rising
        case falling
    }

    public var edge: Edge
    /// Kernel timestamp in nanoseconds (CLOCK_MONOTONIC for libgpiod 1.6).
    public var timestampNanoseconds: UInt64

    public init(edge: Edge, timestampNanoseconds: UInt64) {
        self.edge = edge
        self.timestampNanoseconds = timestampNanoseconds
    }
}

/// An input line: reads the logical value (active-low already applied).
public protocol GPIOInput: Sendable {
    func read() throws -> Bool
}

/// An output line: sets the logical value.
public protocol GPIOOutput: Sendable {
    func write(_ value: Bool) throws
}

/// An input line requested for edge events.
public protocol GPIOEventInput: Sendable {
    /// Waits up to `timeoutNanoseconds` for events and returns every one that is queued, oldest
    /// first (empty on timeout), reading them in batches so the kernel's per-line buffer of 16
    /// never overflows at flow-meter rates.
    func waitForEvents(timeoutNanoseconds: Int64) throws -> [GPIOEdgeEvent]
    /// Ends a wait in progress at once (from another thread), so stopping needs no short timeout.
    func wake()
}

extension GPIOEventInput {
    /// Inputs that cannot be woken end their wait at its timeout.
    public func wake() {}
}

/// SMBus transfers to one device address on an I2C bus (`/dev/i2c-N` with `I2C_SLAVE`).
/// Words are as SMBus carries them: low byte first on the wire, returned as a host integer.
public protocol SMBusDevice: Sendable {
    func readByte(register: UInt8) throws -> UInt8
    func readWord(register: UInt8) throws -> UInt16
    func writeWord(register: UInt8, value: UInt16) throws
}
