import Dispatch
import FoundationEssentials
import ReplenishThreads
import Synchronization

/// A dedicated thread that waits for a line's edge events and hands each batch to a handler.
///
/// Event waits block in the kernel, so they never run on the cooperative thread pool. `stop()`
/// wakes the wait through the input (an eventfd polled with the line, as gpiomon does); the
/// timeout only bounds inputs that cannot be woken, and paces idle settling.
final class LineEventThread: Sendable {
    /// What the thread does with a batch: events oldest first (empty on timeout), and the
    /// monotonic time after the wait returned, to settle a pending debounce.
    typealias Handler = @Sendable (_ events: [GPIOEdgeEvent], _ now: UInt64) -> Void

    private let input: any GPIOEventInput
    private let timeoutNanoseconds: Int64
    private let clock: DriverClock
    private let handler: Handler
    private let failure: @Sendable (any Error) -> Void
    private let stopping = Atomic<Bool>(false)
    private let started = Atomic<Bool>(false)
    private let finished = DispatchSemaphore(value: 0)

    init(input: any GPIOEventInput, timeoutSeconds: Double, clock: DriverClock, name: String,
         handler: @escaping Handler, failure: @escaping @Sendable (any Error) -> Void) {
        self.input = input
        timeoutNanoseconds = Int64(clamping: max(timeoutSeconds, 0.001).nanoseconds)
        self.clock = clock
        self.handler = handler
        self.failure = failure
        self.name = name
    }

    private let name: String

    /// Starts the thread once; later calls do nothing.
    func start() {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return
        }
        PosixThread.detach(name: name) { [self] in run() }
    }

    /// Asks the thread to stop and waits until it has (at once for a wakeable input, else at most
    /// one wait timeout).
    func stop() {
        stopping.store(true, ordering: .releasing)
        guard started.load(ordering: .acquiring) else { return }
        input.wake()
        finished.wait()
        finished.signal()  // later stop() calls return at once
    }

    private func run() {
        defer { finished.signal() }
        while !stopping.load(ordering: .acquiring) {
            do {
                let events = try input.waitForEvents(timeoutNanoseconds: timeoutNanoseconds)
                handler(events, clock.now())
            } catch {
                failure(error)
                // A failing line (unplugged expander, revoked request) must not spin the CPU.
                let backoff = UInt64(timeoutNanoseconds)
                var slept: UInt64 = 0
                while slept < backoff && !stopping.load(ordering: .acquiring) {
                    clock.sleep(min(10_000_000, backoff - slept))
                    slept += 10_000_000
                }
            }
        }
    }
}
