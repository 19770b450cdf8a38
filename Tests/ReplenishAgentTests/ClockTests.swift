import Foundation
import Synchronization
import Testing
import ReplenishAgent
import ReplenishCore
import ReplenishTestSupport

@Suite("Injected clocks")
struct ClockTests {
    /// 2026-05-04 12:00 in Berlin, as the core tests' `Fixture.noon`.
    static let noon = Date(timeIntervalSince1970: 1_777_888_800)

    /// Yields until `condition` holds, a bounded number of times; no sleeping.
    func eventually(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<10_000 {
            if condition() { return true }
            await Task.yield()
        }
        return condition()
    }

    final class Flag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .sequentiallyConsistent) }
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    }

    @Test("ManualClock only moves when told, and never backwards")
    func manualNow() {
        let clock = ManualClock(now: Self.noon)
        #expect(clock.now() == Self.noon)
        clock.advance(by: 90)
        #expect(clock.now() == Self.noon.addingTimeInterval(90))
        clock.advance(to: Self.noon)
        #expect(clock.now() == Self.noon.addingTimeInterval(90))
    }

    @Test("sleep(until:) resumes only once advance reaches the deadline")
    func sleepResumesAtDeadline() async throws {
        let clock = ManualClock(now: Self.noon)
        let deadline = Self.noon.addingTimeInterval(3600)
        let woke = Flag()
        let sleeper = Task {
            try await clock.sleep(until: deadline)
            woke.set()
            return clock.now()
        }
        #expect(await eventually { clock.sleeperCount == 1 })

        clock.advance(by: 1800)
        for _ in 0..<100 { await Task.yield() }
        #expect(!woke.isSet)
        #expect(clock.sleeperCount == 1)

        clock.advance(by: 1799)
        for _ in 0..<100 { await Task.yield() }
        #expect(!woke.isSet)

        clock.advance(by: 1)
        let wokeAt = try await sleeper.value
        #expect(woke.isSet)
        #expect(wokeAt == deadline)
        #expect(clock.sleeperCount == 0)
    }

    @Test("one advance past several deadlines wakes each due sleeper and leaves the others")
    func severalSleepers() async throws {
        let clock = ManualClock(now: Self.noon)
        let offsets: [Double] = [60, 120, 600]
        let sleepers = offsets.map { offset in
            Task { try await clock.sleep(until: Self.noon.addingTimeInterval(offset)) }
        }
        #expect(await eventually { clock.sleeperCount == 3 })
        clock.advance(by: 150)
        try await sleepers[0].value
        try await sleepers[1].value
        #expect(clock.sleeperCount == 1)
        clock.advance(by: 450)
        try await sleepers[2].value
        #expect(clock.sleeperCount == 0)
    }

    @Test("a deadline that has already passed returns at once", arguments: [0.0, -1, -86_400])
    func pastDeadline(_ offset: Double) async throws {
        let clock = ManualClock(now: Self.noon)
        try await clock.sleep(until: Self.noon.addingTimeInterval(offset))
        #expect(clock.sleeperCount == 0)
    }

    @Test("cancelling a sleeper throws CancellationError and unregisters it")
    func cancellation() async {
        let clock = ManualClock(now: Self.noon)
        let sleeper = Task { try await clock.sleep(until: Self.noon.addingTimeInterval(60)) }
        #expect(await eventually { clock.sleeperCount == 1 })
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
        clock.advance(by: 120)   // nothing left to resume twice
    }

    @Test("a task cancelled before it sleeps throws CancellationError without parking")
    func cancelledBeforeSleep() async {
        let clock = ManualClock(now: Self.noon)
        let sleeper = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await clock.sleep(until: Self.noon.addingTimeInterval(60))
        }
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("ScaledClock starts at its origin and runs forward")
    func scaledClock() async throws {
        let origin = Self.noon
        let clock = ScaledClock(origin: origin, scale: 1)
        let first = clock.now()
        #expect(first >= origin)
        #expect(first < origin.addingTimeInterval(60))
        #expect(clock.now() >= first)
        try await clock.sleep(for: -3600)   // in the past: returns at once
    }

    @Test("ManualClock keeps a monotonic clock: advance moves both, jumpWall and setWall only the wall clock")
    func manualMonotonic() {
        let clock = ManualClock(now: Self.noon, monotonic: 50)
        #expect(clock.monotonic() == 50)
        clock.advance(by: 90)
        #expect(clock.monotonic() == 140)
        clock.advance(to: Self.noon.addingTimeInterval(100))
        #expect(clock.monotonic() == 150)
        clock.jumpWall(by: -365 * 86_400)
        #expect(clock.now() == Self.noon.addingTimeInterval(100 - 365 * 86_400))
        #expect(clock.monotonic() == 150)
        clock.setWall(Self.noon)
        #expect(clock.now() == Self.noon)
        #expect(clock.monotonic() == 150)
        clock.advance(by: -10)   // time does not run backwards
        #expect(clock.monotonic() == 150)
    }

    @Test("sleep(for:) wakes on monotonic progress only; sleep(until:) on wall progress, jumps included")
    func twoKindsOfSleepers() async throws {
        let clock = ManualClock(now: Self.noon)
        let monotonicSleeper = Task { try await clock.sleep(for: 600) }
        let wallSleeper = Task { try await clock.sleep(until: Self.noon.addingTimeInterval(3600)) }
        #expect(await eventually { clock.sleeperCount == 2 })
        #expect(clock.timeUntilNextWake == 600)

        clock.jumpWall(by: 7200)              // an NTP step forward: the wall sleeper is due, the other is not
        try await wallSleeper.value
        #expect(clock.sleeperCount == 1)
        clock.jumpWall(by: -86_400 * 365)     // and back a year: nothing wakes, nothing breaks
        for _ in 0..<100 { await Task.yield() }
        #expect(clock.sleeperCount == 1)
        #expect(clock.timeUntilNextWake == 600)

        clock.advance(by: 599)
        for _ in 0..<100 { await Task.yield() }
        #expect(clock.sleeperCount == 1)
        clock.advance(by: 1)
        try await monotonicSleeper.value
        #expect(clock.sleeperCount == 0)
        #expect(clock.timeUntilNextWake == nil)
    }

    @Test("cancelling a monotonic sleeper throws CancellationError and unregisters it")
    func monotonicCancellation() async {
        let clock = ManualClock(now: Self.noon)
        let sleeper = Task { try await clock.sleep(for: 60) }
        #expect(await eventually { clock.sleeperCount == 1 })
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test("SystemClock and ScaledClock: the monotonic clock never goes back; ScaledClock's runs scaled")
    func realMonotonic() async throws {
        let system = SystemClock()
        let a = system.monotonic()
        try await system.sleep(for: 0.001)
        #expect(system.monotonic() > a)
        try await system.sleep(for: -1)       // nothing to wait for

        let scaled = ScaledClock(origin: Self.noon, scale: 1000)
        let m0 = scaled.monotonic()
        try await scaled.sleep(for: 2)        // 2 ms of real time
        let m1 = scaled.monotonic()
        #expect(m1 - m0 >= 2)
        #expect(abs(scaled.now().timeIntervalSince(Self.noon) - scaled.monotonic()) < 1)
    }

    @Test("clock trusts: fixed, manual, and the clock status they give")
    func trusts() {
        #expect(FixedClockTrust(true).isSynchronized())
        #expect(FixedClockTrust(true).status == .synchronized)
        #expect(FixedClockTrust(false).status == .unsynchronized)
        let manual = ManualClockTrust()
        #expect(!manual.isSynchronized())
        manual.set(true)
        #expect(manual.status == .synchronized)
        #expect(ClockStatus(synchronized: false) == .unsynchronized)
    }
}
