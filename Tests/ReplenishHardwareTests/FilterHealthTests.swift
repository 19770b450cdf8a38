import Testing
import ReplenishCore
@testable import ReplenishHardware

@Suite("Filter: sensor health")
struct FilterHealthTests {
    static let bad = SampleVerdict.implausible(reason: "value 2500 above maximum 1800")

    /// Feeds verdicts (g = good, b = bad, s = settling, e = read error) and records health and transitions.
    static func feed(_ script: String, faultAfter: Int = 3, recoverAfter: Int = 3)
        -> (health: [SlotHealth], transitions: [HealthTransition]) {
        var tracker = SensorHealthTracker(faultAfter: faultAfter, recoverAfter: recoverAfter)
        var health: [SlotHealth] = []
        var transitions: [HealthTransition] = []
        for c in script {
            let t: HealthTransition? = switch c {
            case "g": tracker.record(.plausible)
            case "b": tracker.record(bad)
            case "s": tracker.record(.settling)
            default: tracker.recordReadError("bus failure after 3 retries")
            }
            health.append(tracker.health)
            if let t { transitions.append(t) }
        }
        return (health, transitions)
    }

    @Test("one implausible sample degrades; the third in a row faults; three good ones recover")
    func episode() {
        let run = Self.feed("gbbbbggg")
        #expect(run.health == [.ok, .degraded, .degraded, .fault, .fault, .fault, .fault, .ok])
        #expect(run.transitions == [.fault(reason: "value 2500 above maximum 1800"), .recovered])
    }

    @Test("a slot that was only degraded returns to ok without an event")
    func degradedOnly() {
        let run = Self.feed("gbbggg")
        #expect(run.health == [.ok, .degraded, .degraded, .degraded, .degraded, .ok])
        #expect(run.transitions.isEmpty)
    }

    @Test("a good sample between bad ones restarts the count toward fault")
    func interrupted() {
        let run = Self.feed("bbgbbgbb")
        #expect(!run.health.contains(.fault))
        #expect(run.transitions.isEmpty)
    }

    @Test("a bad sample during recovery restarts the count toward ok, still one event each way")
    func flapping() {
        let run = Self.feed("bbbggbgggbbbbggg")
        #expect(run.transitions == [.fault(reason: "value 2500 above maximum 1800"), .recovered,
                                    .fault(reason: "value 2500 above maximum 1800"), .recovered])
        #expect(run.health[8] == .ok)
    }

    @Test("exactly one fault and one recovered per episode, however long", arguments: [3, 10, 500])
    func oneEventEachWay(length: Int) {
        let run = Self.feed("ggg" + String(repeating: "b", count: length) + String(repeating: "g", count: length))
        #expect(run.transitions.count == 2)
        #expect(run.transitions.last == .recovered)
    }

    @Test("configured thresholds", arguments: [
        (1, 1, "gbg", [SlotHealth.ok, .fault, .ok], 2),
        (5, 2, "bbbbbgg", [.degraded, .degraded, .degraded, .degraded, .fault, .fault, .ok], 2),
        (2, 4, "bbggg", [.degraded, .fault, .fault, .fault, .fault], 1),
    ])
    func thresholds(faultAfter: Int, recoverAfter: Int, script: String, health: [SlotHealth], events: Int) {
        let run = Self.feed(script, faultAfter: faultAfter, recoverAfter: recoverAfter)
        #expect(run.health == health)
        #expect(run.transitions.count == events)
    }

    @Test("read errors count like implausible samples and name the failure")
    func readErrors() {
        let run = Self.feed("geeeggg")
        #expect(run.transitions == [.fault(reason: "bus failure after 3 retries"), .recovered])
        #expect(Self.feed("bebgeb").transitions.isEmpty == false)
    }

    @Test("settling samples count neither way")
    func settling() {
        #expect(Self.feed("bbsb").health.last == .fault)
        #expect(Self.feed("bbbggsg").health.last == .ok)
    }

    @Test("a faulted slot recovers with one event")
    func recoversOnce() {
        var tracker = SensorHealthTracker()
        let bad = SampleVerdict.implausible(reason: "no answer")
        #expect([bad, bad, bad].compactMap { tracker.record($0) } == [.fault(reason: "no answer")])
        #expect(tracker.health == .fault)
        let events = [SampleVerdict.plausible, .plausible, .plausible, .plausible].compactMap { tracker.record($0) }
        #expect(events == [.recovered])
    }

    @Test("a chain and a tracker together: a recorded dead ADC faults once and recovers once")
    func chainAndTracker() throws {
        var chain = try FilterChain([PlausibilityLimits.only(min: 0, max: 20000, stuckAfter: 4)])
        var tracker = SensorHealthTracker()
        let raw: [Double] = [8121, 8119, .nan, 8120, 7702, 7702, 7702, 7702, 7702, 7702, 8118, 8122, 8119, 8125]
        var ledger: [Double] = []
        var events: [HealthTransition] = []
        for (i, r) in raw.enumerated() {
            let out = chain.process(raw: r, at: Double(i))
            if let v = out.value { ledger.append(v) }
            if let t = tracker.record(out.verdict) { events.append(t) }
        }
        #expect(events == [.fault(reason: "raw value stuck at 7702 for 6 samples"), .recovered])
        #expect(!ledger.contains(where: { $0.isNaN }))
        #expect(ledger.filter { $0 == 7702 }.count == 3)
        #expect(tracker.health == .ok)
    }
}
