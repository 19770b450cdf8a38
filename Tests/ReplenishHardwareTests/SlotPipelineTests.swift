import FoundationEssentials
import ReplenishCore
import Synchronization
import Testing
@testable import ReplenishHardware

/// A read error as a driver reports it after its retries.
struct PipelineBusDown: Error, CustomStringConvertible {
    var description: String { "busFailure: no answer from 0x48 on /dev/i2c-1" }
}

/// A source that plays back a script, one entry per sample: `.raw` for a raw-value driver's
/// number, `.seen` for another driver's observations, `.fails` for a read error.
final class PlaybackSource: SensorSource {
    let slot = "tank"
    let sampleIntervalSeconds: Double = 60
    private let script: Mutex<[PipelineStep]>

    init(_ script: [PipelineStep]) { self.script = Mutex(script) }

    func sample(at now: Date) throws -> [Observation] {
        switch script.withLock({ $0.removeFirst() }) {
        case .seen(let observations): return observations
        case .raw(let value): return [.level(value)]
        case .fails: throw PipelineBusDown()
        }
    }
}

/// The same script behind `RawValueSource`, in volts.
final class PlaybackRawSource: RawValueSource {
    let slot = "tank"
    let sampleIntervalSeconds: Double = 60
    let rawUnit = "V"
    private let script: Mutex<[PipelineStep]>

    init(_ script: [PipelineStep]) { self.script = Mutex(script) }

    func readRaw() throws -> Double {
        switch script.withLock({ $0.removeFirst() }) {
        case .raw(let value): return value
        case .seen, .fails: throw PipelineBusDown()
        }
    }
}

enum PipelineStep: Sendable {
    case raw(Double)
    case seen([Observation])
    case fails

    var read: Result<SourceRead, any Error> {
        switch self {
        case .raw(let value): .success(.raw(value, unit: "V"))
        case .seen(let observations): .success(.observations(observations))
        case .fails: .failure(PipelineBusDown())
        }
    }
}

/// A health transition expected at a step: a fault whose reason contains a text, or a recovery.
enum ExpectedTransition: Sendable, Equatable {
    case fault(containing: String)
    case recovered

    func matches(_ transition: HealthTransition?) -> Bool {
        switch (self, transition) {
        case let (.fault(text), .fault(reason)?): reason.contains(text)
        case (.recovered, .recovered?): true
        default: false
        }
    }
}

@Suite("slot pipeline: a source's reads through filters, slot bounds and health")
struct SlotPipelineTests {
    static let water = SlotDefinition(id: "water", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
                                      capacity: 1800)
    static let pages = SlotDefinition(id: "paper", sensor: .usage, measurement: Measurement(type: .count), capacity: 500)
    static let volts = SensorFilter.calibrate(points: [CalibrationPoint(raw: 0.5, value: 0), CalibrationPoint(raw: 2.5, value: 1800)])

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var filters: [SensorFilter] = []
        var faultAfter = 3
        var recoverAfter = 3
        var bounds: SlotDefinition?
        /// Each step's read, what the ledger sees, the slot's health after it, and any transition.
        var steps: [(PipelineStep, [Observation], SlotHealth, ExpectedTransition?)]

        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(name: "a level source's observations pass as they are; filters are for raw values", filters: [volts],
             bounds: water, steps: [
                 (.seen([.level(900)]), [.level(900)], .ok, nil),
                 (.seen([]), [], .ok, nil),
                 (.seen([.level(850), .replaced(1800)]), [.level(850), .replaced(1800)], .ok, nil),
             ]),
        Case(name: "a usage source's observations pass as they are", bounds: pages, steps: [
            (.seen([.consumed(3)]), [.consumed(3)], .ok, nil),
            (.seen([.consumed(1), .consumed(2)]), [.consumed(1), .consumed(2)], .ok, nil),
        ]),
        Case(name: "raw values are calibrated into levels", filters: [volts], steps: [
            (.raw(1.5), [.level(900)], .ok, nil),
            (.raw(0.5), [.level(0)], .ok, nil),
        ]),
        Case(name: "calibrate, median and clamp in order", filters: [volts, .median(window: 3), .clamp(min: 0, max: 1800)], steps: [
            (.raw(1.5), [.level(900)], .ok, nil),
            (.raw(3.0), [.level(1575)], .ok, nil),  // 2250 calibrated; the median of 900 and 2250
            (.raw(1.4), [.level(900)], .ok, nil),   // 810; the median of 900, 2250 and 810
            (.raw(4.0), [.level(1800)], .ok, nil),  // 3150; the median 2250, clamped
        ]),
        Case(name: "a counter through delta becomes usage; the first read is the baseline and neutral for health",
             filters: [.delta(modulus: 65_536)], steps: [
                 (.raw(65_530), [], .ok, nil),
                 (.raw(4), [.consumed(10)], .ok, nil),
                 (.raw(4), [.consumed(0)], .ok, nil),
             ]),
        Case(name: "a delta anywhere in the chain makes usage", filters: [.delta(modulus: nil), .clamp(min: 0, max: 100)], steps: [
            (.raw(1000), [], .ok, nil),
            (.raw(1250), [.consumed(100)], .ok, nil),
        ]),
        Case(name: "implausible and failed reads never reach the ledger; three in a row fault once, two good recover",
             filters: [.plausibility(PlausibilityLimits(minValue: 0, maxValue: 2000))], recoverAfter: 2, steps: [
                 (.raw(900), [.level(900)], .ok, nil),
                 (.raw(.nan), [], .degraded, nil),
                 (.raw(5000), [], .degraded, nil),
                 (.fails, [], .fault, .fault(containing: "no answer from 0x48")),
                 (.fails, [], .fault, nil),
                 (.raw(880), [.level(880)], .fault, nil),
                 (.raw(870), [.level(870)], .ok, .recovered),
                 (.raw(860), [.level(860)], .ok, nil),
             ]),
        Case(name: "a slot that was only degraded returns to ok without a transition", faultAfter: 2, recoverAfter: 1, steps: [
            (.fails, [], .degraded, nil),
            (.raw(7), [.level(7)], .ok, nil),
        ]),
        Case(name: "a value the filters let through but the slot cannot hold faults it", faultAfter: 2, recoverAfter: 1,
             bounds: water, steps: [
                 (.raw(900), [.level(900)], .ok, nil),
                 (.raw(1e308), [], .degraded, nil),
                 (.raw(5e5), [], .fault, .fault(containing: "impossible for a slot of capacity 1800")),
                 (.raw(850), [.level(850)], .ok, .recovered),
             ]),
        Case(name: "out-of-bounds observations from any driver are held back whole", faultAfter: 1, recoverAfter: 1,
             bounds: pages, steps: [
                 (.seen([.consumed(2), .consumed(-5)]), [], .fault, .fault(containing: "use of -5 is impossible")),
                 (.seen([.replaced(5000)]), [], .fault, nil),
                 (.seen([.consumed(1)]), [.consumed(1)], .ok, .recovered),
             ]),
        Case(name: "without bounds, nothing but the filters holds a value back", steps: [
            (.raw(1e308), [.level(1e308)], .ok, nil),
        ]),
        Case(name: "a replaced consumable resets the chain's memory", filters: [.median(window: 3)], steps: [
            (.raw(10), [.level(10)], .ok, nil),
            (.seen([.replaced(nil)]), [.replaced(nil)], .ok, nil),
            (.raw(500), [.level(500)], .ok, nil),
        ]),
        Case(name: "a replacement restarts a delta's baseline", filters: [.delta(modulus: nil)], steps: [
            (.raw(100), [], .ok, nil),
            (.seen([.replaced(nil)]), [.replaced(nil)], .ok, nil),
            (.raw(3), [], .ok, nil),
            (.raw(5), [.consumed(2)], .ok, nil),
        ]),
    ]

    @Test("each read becomes one sample", arguments: cases)
    func table(_ c: Case) throws {
        var pipeline = try Self.pipeline(c)
        for (index, step) in c.steps.enumerated() {
            Self.check(pipeline.take(step.0.read, monotonic: Double(index)), against: step, index)  // health included
        }
    }

    @Test("reading the source itself gives the same samples: a raw-value driver through the filters, any other as it is",
          arguments: cases)
    func fromSources(_ c: Case) throws {
        let steps = c.steps.map(\.0)
        let raws = steps.allSatisfy { if case .seen = $0 { false } else { true } }
        let seen = steps.allSatisfy { if case .raw = $0 { false } else { true } }
        // A driver is one kind or the other; a case that mixes them is only for `take`.
        guard raws || seen else { return }
        let source: any SensorSource = raws ? PlaybackRawSource(steps) : PlaybackSource(steps)
        var pipeline = try Self.pipeline(c)
        for (index, step) in c.steps.enumerated() {
            let at = Date(timeIntervalSince1970: Double(index))
            Self.check(pipeline.take(SlotPipeline.read(source, at: at), monotonic: Double(index)), against: step, index)
        }
    }

    static func pipeline(_ c: Case) throws(HardwareError) -> SlotPipeline {
        SlotPipeline(chain: try FilterChain(c.filters),
                     tracker: SensorHealthTracker(faultAfter: c.faultAfter, recoverAfter: c.recoverAfter), bounds: c.bounds)
    }

    static func check(_ sample: SlotSample, against step: (PipelineStep, [Observation], SlotHealth, ExpectedTransition?), _ index: Int) {
        #expect(sample.observations == step.1, "step \(index)")
        #expect(sample.health == step.2, "step \(index)")
        if let transition = step.3 {
            #expect(transition.matches(sample.transition), "step \(index): \(String(describing: sample.transition))")
        } else {
            #expect(sample.transition == nil, "step \(index)")
        }
    }

    @Test("a raw-value driver is read raw with its unit; any other is sampled; a failure is the driver's error")
    func read() {
        let at = Date(timeIntervalSince1970: 0)
        guard case .success(.raw(1.25, unit: "V")) = SlotPipeline.read(PlaybackRawSource([.raw(1.25)]), at: at) else {
            Issue.record("not read raw")
            return
        }
        guard case .success(.observations([.consumed(2)])) = SlotPipeline.read(PlaybackSource([.seen([.consumed(2)])]), at: at) else {
            Issue.record("not sampled")
            return
        }
        guard case .failure(let error) = SlotPipeline.read(PlaybackRawSource([.fails]), at: at) else {
            Issue.record("no failure")
            return
        }
        #expect("\(error)".contains("no answer from 0x48"))
    }

    @Test("a filter list the chain refuses throws, so no pipeline is built on it")
    func refusedFilters() {
        #expect { try FilterChain([.median(window: 0)]) } throws: { ($0 as? HardwareError)?.code == .invalidFilter }
    }
}
