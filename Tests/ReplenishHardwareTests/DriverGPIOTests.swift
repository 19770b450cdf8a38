import Foundation
import Testing
import ReplenishCore
@testable import ReplenishHardware

@Suite("GPIO drivers: switch ladder, presence, HX711")
struct DriverGPIOTests {
    // MARK: gpio-switch-ladder

    static let ladder = SwitchLadderSettings(switches: [
        .init(line: "FLOAT_75", fraction: 0.75), .init(line: "FLOAT_25", fraction: 0.25),
        .init(line: "FLOAT_50", fraction: 0.5), .init(line: "FLOAT_100", fraction: 1.0),
    ])

    /// Wet states in the order 25, 50, 75, 100 %, and the verdict.
    @Test("switch ladder patterns", arguments: [
        ([false, false, false, false], LadderVerdict.level(fraction: 0)),
        ([true, false, false, false], .level(fraction: 0.25)),
        ([true, true, false, false], .level(fraction: 0.5)),
        ([true, true, true, false], .level(fraction: 0.75)),
        ([true, true, true, true], .level(fraction: 1)),
        ([false, true, false, false], .inconsistent(consistentFraction: 0, wetAboveDry: [0.5])),
        ([true, false, true, true], .inconsistent(consistentFraction: 0.25, wetAboveDry: [0.75, 1])),
        ([true, true, false, true], .inconsistent(consistentFraction: 0.5, wetAboveDry: [1])),
        ([false, false, false, true], .inconsistent(consistentFraction: 0, wetAboveDry: [1])),
    ] as [([Bool], LadderVerdict)])
    func ladderPattern(wetByHeight: [Bool], verdict: LadderVerdict) throws {
        // Settings list the switches as 75, 25, 50, 100: map the by-height states onto that order.
        let byFraction = Dictionary(uniqueKeysWithValues: zip([0.25, 0.5, 0.75, 1.0], wetByHeight))
        let wet = Self.ladder.switches.map { byFraction[$0.fraction]! }
        #expect(SwitchLadder.verdict(switches: Self.ladder.switches, wet: wet) == verdict)

        let source = SwitchLadderSource(slot: "tank", sampleIntervalSeconds: 5, settings: Self.ladder, capacity: 1800,
                                        lines: wet.map { FakeInputLine($0) })
        #expect(try source.read() == verdict)
        switch verdict {
        case .level(let fraction):
            #expect(try source.sample(at: Date()) == [.level(fraction * 1800)])
        case .inconsistent:
            #expect { try source.sample(at: Date()) } throws: { ($0 as? HardwareError)?.code == .inconsistentReading }
        }
    }

    @Test("a switch line that cannot be read is a lineFailure naming the line")
    func ladderLineFailure() {
        let lines = [FakeInputLine(true), FakeInputLine(true), FakeInputLine(true), FakeInputLine(false)]
        lines[2].failing.withLock { $0 = true }
        let source = SwitchLadderSource(slot: "tank", sampleIntervalSeconds: 5, settings: Self.ladder, capacity: 1,
                                        lines: lines)
        #expect { try source.sample(at: Date()) } throws: {
            ($0 as? HardwareError).map { $0.code == .lineFailure && $0.message.contains("FLOAT_50") } ?? false
        }
        #expect(Self.ladder.problems.isEmpty)
        #expect(SwitchLadderSettings(switches: [.init(line: "A", fraction: 0.5), .init(line: "A", fraction: 0.5)]).problems.map(\.description)
                == ["switches: two switches share a fraction", "switches: a line is used twice"])
    }

    // MARK: gpio-presence

    static let presence = PresenceSettings(quantityOnInsert: 250, debounceSeconds: 0.05)

    @Test("removal then re-insertion is one replacement with the configured quantity")
    func presenceSwap() {
        var tracker = PresenceTracker(settings: Self.presence, present: true)
        var script = EdgeScript()
        script.fall(1_000_000)                      // removed
        script.rise(9_000_000); script.fall(9_010_000); script.rise(9_020_000)  // inserted, bouncing
        tracker.feed(script.events)
        tracker.settle(at: 9_020_000 * 1000 + 50_000_000)
        #expect(tracker.takeObservations() == [.replaced(250)])
        #expect(tracker.takeObservations().isEmpty)
        // Present now: a further rising edge changes nothing (from absent or unknown it would be an insertion).
        var again = EdgeScript()
        again.rise(20_000_000)
        tracker.feed(again.events)
        tracker.settle(at: 30_000_000_000)
        #expect(tracker.takeObservations().isEmpty)
    }

    @Test("a slot that starts absent reports nothing until a cartridge goes in")
    func presenceStartsAbsent() {
        var tracker = PresenceTracker(settings: PresenceSettings(), present: false)
        tracker.settle(at: 10_000_000_000)
        #expect(tracker.takeObservations().isEmpty)
        var script = EdgeScript()
        script.rise(20_000_000)
        tracker.feed(script.events)
        tracker.settle(at: 30_000_000_000)
        #expect(tracker.takeObservations() == [.replaced(nil)])  // nil: the slot's capacity
    }

    @Test("a short wobble of a seated cartridge is no replacement")
    func presenceWobble() {
        var tracker = PresenceTracker(settings: Self.presence, present: true)
        var script = EdgeScript()
        script.fall(1_000_000); script.rise(1_020_000)  // 20 ms open, below the 50 ms debounce
        tracker.feed(script.events)
        tracker.settle(at: 10_000_000_000)
        #expect(tracker.takeObservations().isEmpty)
    }

    @Test("two swaps between samples are two replacements")
    func presenceTwoSwaps() {
        var tracker = PresenceTracker(settings: Self.presence, present: true)
        var script = EdgeScript()
        script.fall(0); script.rise(1_000_000); script.fall(2_000_000); script.rise(3_000_000)
        tracker.feed(script.events)
        tracker.settle(at: 4_000_000_000)
        #expect(tracker.takeObservations() == [.replaced(250), .replaced(250)])
    }

    @Test("the presence source reads the initial state, watches edges on its thread, and stops")
    func presenceSource() throws {
        var script = EdgeScript()
        script.fall(1_000_000); script.rise(5_000_000)
        let line = RecordedEventLine(batches: [script.events])
        let clock = FakeDriverClock()
        clock.advance(60_000_000_000)
        let source = PresenceSource(slot: "toner", sampleIntervalSeconds: 60, settings: Self.presence,
                                    events: line, level: FakeInputLine(true), clock: clock.clock,
                                    stopLatencySeconds: 0.01)
        try source.start()
        #expect(eventually { line.remainingBatches == 0 && line.waits.withLock { $0 } >= 2 })
        #expect(try source.sample(at: Date()) == [.replaced(250)])
        #expect(try source.sample(at: Date()).isEmpty)
        source.stop()
    }

    @Test("the presence source learns the switch's state in start(), not when it is made")
    func presenceSourceReadsAtStart() throws {
        var script = EdgeScript()
        script.rise(5_000_000)
        let line = RecordedEventLine(batches: [script.events])
        let level = FakeInputLine(false)
        let clock = FakeDriverClock()
        clock.advance(60_000_000_000)
        let source = PresenceSource(slot: "toner", sampleIntervalSeconds: 60, settings: Self.presence,
                                    events: line, level: level, clock: clock.clock, stopLatencySeconds: 0.01)
        level.set(true)  // seated after the source was made: start() must see it
        try source.start()
        #expect(eventually { line.remainingBatches == 0 && line.waits.withLock { $0 } >= 2 })
        #expect(try source.sample(at: Date()).isEmpty)  // a rise of a seated cartridge is no insertion
        source.stop()
    }

    // MARK: hx711

    @Test("HX711 24-bit two's complement decoding", arguments: [
        (UInt32(0x000000), Int32(0)), (0x000001, 1), (0x7FFFFF, 8_388_607), (0x800000, -8_388_608),
        (0xFFFFFF, -1), (0x123456, 1_193_046), (0xFE1DC0, -123_456),
    ] as [(UInt32, Int32)])
    func hx711Decode(bits: UInt32, count: Int32) {
        #expect(HX711Protocol.decode(bits) == count)
    }

    @Test("HX711 gain and channel select 25, 27 or 26 pulses", arguments: [
        (HX711Settings.Gain.channelA128, 25), (.channelA64, 27), (.channelB32, 26),
    ] as [(HX711Settings.Gain, Int)])
    func hx711Pulses(gain: HX711Settings.Gain, pulses: Int) {
        #expect(gain.pulses == pulses)
    }

    static func hx711(_ chip: FakeHX711, _ time: FakeDriverClock, gain: HX711Settings.Gain = .channelA128,
                      retries: Int = 3) -> HX711Source {
        HX711Source(slot: "beans", sampleIntervalSeconds: 30,
                    settings: HX711Settings(clockLine: "GPIO5", dataLine: "GPIO6", gain: gain, retries: retries),
                    clockLine: chip, dataLine: chip, clock: time.clock)
    }

    @Test("HX711 reads a known value bit by bit, positive and negative", arguments: [Int32(-123_456), 0, 1, 4_000_000, -8_388_608])
    func hx711Read(count: Int32) throws {
        let time = FakeDriverClock()
        let chip = FakeHX711(count: count, time: time)
        let source = Self.hx711(chip, time)
        #expect(try source.readRaw() == Double(count))
        _ = try chip.read()  // let the fake close the transfer
        #expect(chip.transfers.map(\.pulses) == [25])
        #expect(chip.state.withLock { $0.clockWrites } == Array(repeating: [true, false], count: 25).flatMap { $0 })
        // It waited for data ready by polling DOUT with 1 ms sleeps.
        #expect(time.sleeps.withLock { $0 } == [1_000_000, 1_000_000])
    }

    @Test("HX711 at gain 64 or channel B: the first conversion (at the power-on gain) is discarded", arguments: [
        HX711Settings.Gain.channelA64, .channelB32,
    ])
    func hx711Priming(gain: HX711Settings.Gain) throws {
        let time = FakeDriverClock()
        let chip = FakeHX711(count: 1_000_000, time: time)
        let source = Self.hx711(chip, time, gain: gain)
        #expect(try source.readRaw() == Double(1_000_000 * Int32(gain.rawValue) / 128))
        _ = try chip.read()  // let the fake close the last transfer
        #expect(chip.transfers.map(\.pulses) == [gain.pulses, gain.pulses])
        #expect(chip.transfers.map(\.gain) == [128, gain.rawValue])
        #expect(try source.readRaw() == Double(1_000_000 * Int32(gain.rawValue) / 128))
        _ = try chip.read()
        #expect(chip.transfers.count == 3)  // primed: no further throwaway conversion
    }

    @Test("HX711: a clock high phase of 60 µs or more discards the reading; the retry reads clean")
    func hx711TimingViolation() throws {
        let time = FakeDriverClock()
        let chip = FakeHX711(count: 777, time: time)
        chip.state.withLock { $0.slowPulses = [10] }
        let source = Self.hx711(chip, time)
        #expect(try source.readRaw() == 777)
        _ = try chip.read()
        #expect(chip.transfers.count == 2)  // the first was discarded
    }

    @Test("HX711: timing violations on every attempt end in a timingViolation error, clock left low")
    func hx711TimingViolationExhausted() {
        let time = FakeDriverClock()
        let chip = FakeHX711(count: 777, time: time)
        chip.state.withLock { $0.slowPulses = [3, 30, 60, 80] }  // one in each of the four attempts
        let source = Self.hx711(chip, time, retries: 3)
        #expect { try source.readRaw() } throws: { ($0 as? HardwareError)?.code == .timingViolation }
        #expect(chip.state.withLock { $0.clockWrites.last } == false)
    }

    @Test("presence and HX711 settings problems name their YAML keys")
    func gpioSettingsProblems() {
        #expect(Self.presence.problems.isEmpty)
        #expect(PresenceSettings(quantityOnInsert: 0, debounceSeconds: 20).problems.map(\.description)
                == ["quantity_on_insert: expected a positive quantity", "debounce: expected 0 to 10 seconds"])
        #expect(HX711Settings(clockLine: "GPIO5", dataLine: "GPIO6").problems.isEmpty)
        #expect(HX711Settings(clockLine: "GPIO5", dataLine: "GPIO5", readyTimeoutSeconds: 0).problems.map(\.description)
                == ["clock: must be another line than data", "ready_timeout: expected more than 0 and at most 5 seconds"])
    }

    @Test("HX711: DOUT never going low is notReady after ready_timeout, without retries")
    func hx711NotReady() {
        let time = FakeDriverClock()
        let chip = FakeHX711(count: 1, pollsBeforeReady: .max, time: time)
        let source = Self.hx711(chip, time)
        #expect { try source.readRaw() } throws: { ($0 as? HardwareError)?.code == .notReady }
        let slept = time.sleeps.withLock { $0 }.reduce(0, +)
        #expect(slept >= 490_000_000 && slept <= 510_000_000)
    }
}
