import Foundation
import Synchronization
@testable import ReplenishHardware

/// A failure a fake injects, standing in for EIO/ENXIO from the kernel.
struct FakeBusError: Error, Equatable, CustomStringConvertible {
    var description: String { "Remote I/O error (fake)" }
}

/// A driver clock that only moves when told: `now` returns the set time, `sleep` advances it.
final class FakeDriverClock: Sendable {
    let nanoseconds = Mutex<UInt64>(0)
    let sleeps = Mutex<[UInt64]>([])

    var clock: DriverClock {
        DriverClock(now: { [self] in nanoseconds.withLock { $0 } },
                    sleep: { [self] ns in
                        sleeps.withLock { $0.append(ns) }
                        nanoseconds.withLock { $0 += ns }
                    })
    }

    func advance(_ ns: UInt64) { nanoseconds.withLock { $0 += ns } }
}

/// An event line that replays recorded batches, then reports timeouts (after a short real wait,
/// so the thread does not spin), optionally failing once first.
final class RecordedEventLine: GPIOEventInput {
    private let batches: Mutex<[[GPIOEdgeEvent]]>
    private let failures = Mutex(0)
    let waits = Mutex(0)

    init(batches: [[GPIOEdgeEvent]], failFirst: Int = 0) {
        self.batches = Mutex(batches)
        failures.withLock { $0 = failFirst }
    }

    var remainingBatches: Int { batches.withLock { $0.count } }

    func waitForEvents(timeoutNanoseconds: Int64) throws -> [GPIOEdgeEvent] {
        waits.withLock { $0 += 1 }
        if failures.withLock({ f in defer { f = max(0, f - 1) }; return f > 0 }) { throw FakeBusError() }
        if let batch = batches.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { return batch }
        Thread.sleep(forTimeInterval: min(Double(timeoutNanoseconds) / 1e9, 0.002))
        return []
    }
}

/// An input line with a scripted level.
final class FakeInputLine: GPIOInput {
    let level: Mutex<Bool>
    let failing = Mutex(false)
    init(_ level: Bool) { self.level = Mutex(level) }
    func set(_ value: Bool) { level.withLock { $0 = value } }
    func read() throws -> Bool {
        if failing.withLock({ $0 }) { throw FakeBusError() }
        return level.withLock { $0 }
    }
}

/// Waits (really) until `condition` holds or two seconds pass.
func eventually(_ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(2)
    while Date() < deadline {
        if condition() { return true }
        Thread.sleep(forTimeInterval: 0.001)
    }
    return condition()
}

/// Builds edge sequences in microseconds for readable tests.
struct EdgeScript {
    private(set) var events: [GPIOEdgeEvent] = []
    mutating func rise(_ microseconds: UInt64) { events.append(.init(edge: .rising, timestampNanoseconds: microseconds * 1000)) }
    mutating func fall(_ microseconds: UInt64) { events.append(.init(edge: .falling, timestampNanoseconds: microseconds * 1000)) }
}
