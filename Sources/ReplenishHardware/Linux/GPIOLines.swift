#if canImport(Glibc)
import Glibc
#endif
import CLinuxShims
import Synchronization

/// Which edges a line reports as events.
public enum GPIOEdgeSelection: String, Sendable, Hashable, CaseIterable {
    case rising, falling, both

    var shim: rpl_gpio_edge {
        switch self {
        case .rising: return RPL_GPIO_EDGE_RISING
        case .falling: return RPL_GPIO_EDGE_FALLING
        case .both: return RPL_GPIO_EDGE_BOTH
        }
    }
}

extension LineSpec.Bias {
    var shim: rpl_gpio_bias {
        switch self {
        case .asIs: return RPL_GPIO_BIAS_AS_IS
        case .disable: return RPL_GPIO_BIAS_DISABLE
        case .pullUp: return RPL_GPIO_BIAS_PULL_UP
        case .pullDown: return RPL_GPIO_BIAS_PULL_DOWN
        }
    }
}

/// One requested line: owns the shim's request handle and releases it in `deinit`, before the
/// chip it keeps open (libgpiod 1.6 lines belong to their chip).
final class LineRequest: @unchecked Sendable {
    // @unchecked: the handle is immutable and calls on it are serialized by `lock`.
    let handle: OpaquePointer
    let chip: GPIOChip
    let offset: UInt32
    /// "GPIO17 on gpiochip0", for messages.
    let lineDescription: String
    let lock = Mutex(())

    init(_ spec: LineSpec, chip: GPIOChip?, request: (GPIOChip, UInt32) -> OpaquePointer?) throws {
        let chip = try chip ?? GPIOChip(spec.chip)
        let offset = try chip.offset(of: spec.line)
        // Requests go through the chip's handle, so they hold its lock; the error is built after
        // the lock is dropped, since reading the consumer takes it again.
        var handle: OpaquePointer?
        var failure: Int32 = 0
        chip.lock.withLock { _ in
            do throws(HardwareError) {
                handle = try SystemCall.retryingInterrupts({ request(chip, offset) }) { code in
                    HardwareError(.transferFailed, "", errno: code)
                }
            } catch {
                failure = error.errno ?? EIO
            }
        }
        guard let handle else { throw chip.requestError(line: spec.line, offset: offset, errno: failure) }
        self.handle = handle
        self.chip = chip
        self.offset = offset
        self.lineDescription = "\(spec.line) on \(chip.name)"
    }

    deinit {
        chip.lock.withLock { _ in rpl_gpio_request_release(handle) }
    }

    func read() throws -> Bool {
        try lock.withLock { _ in
            try SystemCall.retryingInterrupts({ rpl_gpio_get_value(handle) }) { code in
                .failed("reading \(lineDescription)", errno: code)
            } == 1
        }
    }
}

/// A GPIO line requested as input. The corresponding C function is `rpl_gpio_request_input`.
public final class GPIOInputLine: GPIOInput {
    let request: LineRequest

    /// Requests the line for reading; opens the chip unless one is given.
    public init(_ spec: LineSpec, chip: GPIOChip? = nil, consumer: String = "replenishd") throws {
        request = try LineRequest(spec, chip: chip) { chip, offset in
            rpl_gpio_request_input(chip.handle, offset, consumer, spec.activeLow, spec.bias.shim)
        }
    }

    /// The logical value, active-low applied. Blocks briefly (one ioctl).
    public func read() throws -> Bool { try request.read() }
}

/// A GPIO line requested as output. The corresponding C function is `rpl_gpio_request_output`.
public final class GPIOOutputLine: GPIOOutput {
    let request: LineRequest

    /// Requests the line for driving, starting at `initialValue` (logical, active-low applied).
    /// `spec.bias` does not apply to outputs.
    public init(_ spec: LineSpec, initialValue: Bool, chip: GPIOChip? = nil, consumer: String = "replenishd") throws {
        request = try LineRequest(spec, chip: chip) { chip, offset in
            rpl_gpio_request_output(chip.handle, offset, consumer, spec.activeLow, initialValue ? 1 : 0)
        }
    }

    public func write(_ value: Bool) throws {
        try request.lock.withLock { _ in
            _ = try SystemCall.retryingInterrupts({ rpl_gpio_set_value(request.handle, value ? 1 : 0) }) { code in
                .failed("setting \(request.lineDescription)", errno: code)
            }
        }
    }
}

/// A GPIO input line requested for edge events, read in batches so the kernel's per-line queue
/// (16 events with libgpiod 1.6) does not overflow at flow-meter rates.
///
/// `waitForEvents` blocks the calling thread: call it from one dedicated thread. `wake()` may be
/// called from any thread to make a blocked wait return early (for shutdown).
/// The corresponding C function is `rpl_gpio_request_events`.
public final class GPIOEventLine: GPIOEventInput {
    let request: LineRequest
    private let wakeFD: Int32

    public init(_ spec: LineSpec, edges: GPIOEdgeSelection, chip: GPIOChip? = nil, consumer: String = "replenishd") throws {
        request = try LineRequest(spec, chip: chip) { chip, offset in
            rpl_gpio_request_events(chip.handle, offset, consumer, edges.shim, spec.activeLow, spec.bias.shim)
        }
        wakeFD = try SystemCall.retryingInterrupts({ rpl_wake_fd_new() }) { code in
            .failed("creating a wake-up eventfd for \(spec)", errno: code)
        }
    }

    deinit {
        close(wakeFD)
    }

    /// The current logical value (active-low applied), e.g. to seed a debouncer.
    public func read() throws -> Bool { try request.read() }

    /// Makes a blocked or the next `waitForEvents` return (empty) at once.
    public func wake() {
        _ = rpl_wake_fd_signal(wakeFD)
    }

    public func waitForEvents(timeoutNanoseconds: Int64) throws -> [GPIOEdgeEvent] {
        // The wait is a ppoll() on the fds and needs no lock, so `read()` is not held up by it;
        // reading the queue does.
        let handle = request.handle
        let deadline = timeoutNanoseconds < 0 ? nil : Self.monotonicNanoseconds() + timeoutNanoseconds
        let ready = try SystemCall.retryingInterrupts({ () -> Int32 in
            // After an EINTR, wait only for what is left of the timeout.
            let remaining = deadline.map { max(0, $0 - Self.monotonicNanoseconds()) } ?? -1
            return rpl_gpio_wait_events(handle, remaining, wakeFD)
        }) { code in .failed("waiting for events on \(request.lineDescription)", errno: code) }
        if ready == 2 { _ = rpl_wake_fd_drain(wakeFD) }
        guard ready == 1 else { return [] }

        return try request.lock.withLock { _ in
            var events: [GPIOEdgeEvent] = []
            let batchSize = Int(RPL_GPIO_EVENT_BATCH)
            var batch = [rpl_gpio_edge_event](repeating: rpl_gpio_edge_event(), count: batchSize)
            while true {
                let count = try SystemCall.retryingInterrupts({ rpl_gpio_read_events(handle, &batch, UInt32(batchSize)) }) { code in
                    .failed("reading events on \(request.lineDescription)", errno: code)
                }
                for event in batch.prefix(Int(count)) {
                    events.append(GPIOEdgeEvent(
                        edge: event.edge == Int32(RPL_GPIO_EDGE_RISING.rawValue) ? .rising : .falling,
                        timestampNanoseconds: event.timestamp_ns))
                }
                // A short batch drained the queue; a full one may have left more behind.
                if count < batchSize { break }
                let more = try SystemCall.retryingInterrupts({ rpl_gpio_wait_events(handle, 0, -1) }) { code in
                    .failed("waiting for events on \(request.lineDescription)", errno: code)
                }
                if more != 1 { break }
            }
            return events
        }
    }

    private static func monotonicNanoseconds() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
    }
}

/// An event line can also be read: the presence switch reads its state at start.
extension GPIOEventLine: GPIOInput {}
