import Foundation
import Testing
import ReplenishCore
@testable import ReplenishHardware

@Suite("gpio-pulse-counter")
struct DriverPulseCounterTests {
    static func counter(_ edge: PulseCounterSettings.Edge, debounceMicroseconds: Double) -> PulseCounter {
        PulseCounter(settings: PulseCounterSettings(edge: edge, debounceSeconds: debounceMicroseconds / 1e6,
                                                    quantityPerPulse: 1))
    }

    /// A 2 kHz train (period 500 µs): each rising edge bounces for 200 µs (bounce pulses of
    /// `bounceMicroseconds`), the line holds high until 300 µs, then falls with a 20 µs bounce
    /// and holds low until the next period.
    static func train(pulses: Int, bounceMicroseconds: UInt64 = 20, seed: UInt64? = nil) -> [GPIOEdgeEvent] {
        var script = EdgeScript()
        var random = seed.map(SplitMix64.init(seed:))
        for k in 0..<UInt64(pulses) {
            let t0 = 1_000 + k * 500
            var t = t0
            script.rise(t)
            // Bounce: dips and returns until 200 µs after the edge, ending high.
            while true {
                let width = random.map { var r = $0; defer { random = r }; return 1 + r.next() % bounceMicroseconds }
                    ?? bounceMicroseconds
                guard t + 2 * width <= t0 + 200 else { break }
                script.fall(t + width)
                script.rise(t + 2 * width)
                t += 2 * width
            }
            script.fall(t0 + 300)
            script.rise(t0 + 310)
            script.fall(t0 + 320)
        }
        return script.events
    }

    @Test("a 2 kHz train with 200 µs of bounce counts every pulse exactly", arguments: [
        (PulseCounterSettings.Edge.rising, UInt64(1)), (.falling, UInt64(1)), (.both, UInt64(2)),
    ] as [(PulseCounterSettings.Edge, UInt64)])
    func twoKilohertzTrain(edge: PulseCounterSettings.Edge, perPulse: UInt64) {
        var counter = Self.counter(edge, debounceMicroseconds: 50)
        counter.feed(Self.train(pulses: 2_000))
        counter.settle(at: 1_000 * 1000 + 2_000 * 500_000 + 1_000_000)
        #expect(counter.pulses == 2_000 * perPulse)
    }

    @Test("random bounce widths and random batch sizes still count exactly", arguments: [1, 7, 42])
    func randomBounceAndBatches(seed: UInt64) {
        let events = Self.train(pulses: 1_000, bounceMicroseconds: 30, seed: seed)
        var counter = Self.counter(.rising, debounceMicroseconds: 60)
        var random = SplitMix64(seed: seed)
        var index = 0
        while index < events.count {
            let size = Int(1 + random.next() % 64)
            counter.feed(Array(events[index..<min(index + size, events.count)]))
            index += size
        }
        counter.settle(at: UInt64.max / 2)
        #expect(counter.pulses == 1_000)
    }

    @Test("counted edge only, as the daemon requests it: every pulse counts, bounce within the lock-out does not",
          arguments: [PulseCounterSettings.Edge.rising, .falling])
    func countedEdgeOnly(edge: PulseCounterSettings.Edge) {
        // 500 pulses 2 ms apart, each edge bouncing three times within 30 µs; only `edge` arrives.
        var events: [GPIOEdgeEvent] = []
        for k in UInt64(0)..<500 {
            for bounce in UInt64(0)..<3 {
                events.append(GPIOEdgeEvent(edge: edge == .rising ? .rising : .falling,
                                            timestampNanoseconds: (1_000 + k * 2_000 + bounce * 10) * 1_000))
            }
        }
        var counter = PulseCounter(settings: PulseCounterSettings(edge: edge, debounceSeconds: 0.0001, quantityPerPulse: 1),
                                   countedEdgeOnly: true)
        counter.feed(Array(events[..<700]))
        counter.feed(Array(events[700...]))
        #expect(counter.pulses == 500)
        // The same stream to a both-edges counter counts the first pulse alone: the bug the
        // emulated board found when the daemon asked the kernel for the counted edge only.
        var confused = Self.counter(edge, debounceMicroseconds: 100)
        confused.feed(events)
        confused.settle(at: UInt64.max / 2)
        #expect(confused.pulses <= 1)
    }

    @Test("a glitch shorter than debounce is ignored and does not block the real edge after it")
    func glitchThenRealEdge() {
        var script = EdgeScript()
        script.rise(100); script.fall(105)     // 5 µs glitch
        script.rise(110)                       // the real edge, 5 µs later
        script.fall(2_000)                     // held high 1.89 ms
        var counter = Self.counter(.rising, debounceMicroseconds: 50)
        counter.feed(script.events)
        #expect(counter.pulses == 1)
    }

    @Test("only glitches: nothing counts")
    func onlyGlitches() {
        var script = EdgeScript()
        for t in stride(from: UInt64(100), to: 1_000, by: 100) { script.rise(t); script.fall(t + 10) }
        var counter = Self.counter(.both, debounceMicroseconds: 50)
        counter.feed(script.events)
        counter.settle(at: 10_000_000)
        #expect(counter.pulses == 0)
    }

    @Test("the last level is confirmed by settle once the debounce time has passed, not before")
    func settleConfirmsLastLevel() {
        var script = EdgeScript()
        script.rise(1_000)
        var counter = Self.counter(.rising, debounceMicroseconds: 50)
        counter.feed(script.events)
        counter.settle(at: 1_049_000)
        #expect(counter.pulses == 0)
        counter.settle(at: 1_050_000)
        #expect(counter.pulses == 1)
        counter.settle(at: 9_000_000)
        #expect(counter.pulses == 1)
    }

    @Test("both edges: a rise and a fall are two pulses; a lost falling edge does not double count")
    func bothEdgesAndLostEdge() {
        var script = EdgeScript()
        script.rise(0); script.fall(1_000)
        script.rise(2_000); script.rise(3_000)  // the fall between was lost: one rise counts
        script.fall(4_000)
        var counter = Self.counter(.both, debounceMicroseconds: 100)
        counter.feed(script.events)
        counter.settle(at: 10_000_000)
        #expect(counter.pulses == 4)
    }

    @Test("zero debounce counts every edge of the selected kind")
    func zeroDebounce() {
        var script = EdgeScript()
        script.rise(0); script.fall(1); script.rise(2); script.fall(3)
        var counter = Self.counter(.rising, debounceMicroseconds: 0)
        counter.feed(script.events)
        #expect(counter.pulses == 2)
    }

    @Test("the source counts on its own thread, reports consumption since the last sample, and stops")
    func sourceThread() throws {
        let events = Self.train(pulses: 300)
        let batches = stride(from: 0, to: events.count, by: 16).map { Array(events[$0..<min($0 + 16, events.count)]) }
        let line = RecordedEventLine(batches: batches)
        let clock = FakeDriverClock()
        clock.advance(10_000_000_000)  // "now" lies after every recorded event
        let source = PulseCounterSource(slot: "water", sampleIntervalSeconds: 60,
                                        settings: .init(edge: .rising, debounceSeconds: 50e-6, quantityPerPulse: 2.5),
                                        line: line, clock: clock.clock, stopLatencySeconds: 0.01)
        source.start()
        // One wait past the last batch: its events have been counted.
        #expect(eventually { line.remainingBatches == 0 && line.waits.withLock { $0 } > batches.count })
        #expect(try source.sample(at: Date()) == [.consumed(750)])
        #expect(try source.sample(at: Date()).isEmpty)
        source.stop()
        let waits = line.waits.withLock { $0 }
        Thread.sleep(forTimeInterval: 0.02)
        #expect(line.waits.withLock { $0 } == waits)  // the thread has ended
        source.stop()  // a second stop returns at once
    }

    @Test("a failed event wait is reported once by sample and loses no pulses")
    func eventWaitFailure() throws {
        var script = EdgeScript()
        script.rise(0); script.fall(1_000)
        let line = RecordedEventLine(batches: [script.events], failFirst: 1)
        let clock = FakeDriverClock()
        clock.advance(1_000_000_000)
        let source = PulseCounterSource(slot: "pages", sampleIntervalSeconds: 60,
                                        settings: .init(edge: .rising, debounceSeconds: 0, quantityPerPulse: 1),
                                        line: line, clock: clock.clock, stopLatencySeconds: 0.01)
        source.start()
        defer { source.stop() }
        #expect(eventually { line.remainingBatches == 0 && line.waits.withLock { $0 } >= 3 })  // failed, batch, next
        #expect { try source.sample(at: Date()) } throws: { ($0 as? HardwareError)?.code == .lineFailure }
        #expect(try source.sample(at: Date()) == [.consumed(1)])
    }

    @Test("counting keeps up with far more than a bouncing 2 kHz train (≥ 100 k events/s even in debug builds)")
    func throughput() {
        let events = Self.train(pulses: 10_000)  // 160 000 edges: 5 s of a 2 kHz meter with bounce
        var counter = Self.counter(.rising, debounceMicroseconds: 50)
        let started = ContinuousClock.now
        for start in stride(from: 0, to: events.count, by: 64) {
            counter.feed(Array(events[start..<min(start + 64, events.count)]))
        }
        let elapsed = ContinuousClock.now - started
        #expect(counter.pulses == 10_000)
        #expect(elapsed < .seconds(1.6), "took \(elapsed) for \(events.count) events")
    }

    @Test("settings name their YAML keys when invalid")
    func settingsProblems() {
        #expect(PulseCounterSettings(quantityPerPulse: 1).problems.isEmpty)
        #expect(PulseCounterSettings(debounceSeconds: -1, quantityPerPulse: 0).problems.map(\.description)
                == ["debounce: expected 0 to 1 seconds", "quantity_per_pulse: expected a positive quantity"])
    }
}
