import Foundation
@testable import ReplenishCore
import Testing

/// A 1000 ml slot with a low threshold of 200 ml, read once a day at 08:00 UTC from 2026-11-01.
struct PolicyBench {
    static let capacity = 1000.0
    static let threshold = 200.0
    static let start = Fixture.utc(2026, 11, 1, 8)

    var policy: ReplenishmentPolicy

    init(_ settings: ReplenishmentSettings = ReplenishmentSettings(mode: .device)) {
        policy = ReplenishmentPolicy(settings: settings)
    }

    static func day(_ n: Double) -> Date { start.addingTimeInterval(n * 86_400) }

    /// One reading; `rate` per day gives the forecast run-out (nil: no forecast).
    mutating func read(_ level: Double?, rate: Double? = nil, threshold: Double? = threshold, at now: Date) -> [PolicyEvent] {
        let runOut = zip(level, rate).flatMap { level, rate in
            rate > 0 ? now.addingTimeInterval(level / rate * 86_400) : nil
        }
        return policy.evaluate(remaining: level, runOut: runOut, capacity: Self.capacity, lowThreshold: threshold, now: now)
    }

    /// Days `range` of a slot used at `rate` per day from `from`; returns the days with a request.
    mutating func month(_ range: ClosedRange<Int>, from: Double = capacity, rate: Double,
                        threshold: Double? = threshold) -> [Int] {
        range.filter { n in
            let level = max(0, from - rate * Double(n - range.lowerBound))
            return read(level, rate: rate, threshold: threshold, at: Self.day(Double(n))).hasRequest
        }
    }

    mutating func placeAndCancel(_ id: String, at now: Date) {
        _ = policy.orderPlaced(orderId: id, now: now)
        _ = policy.orderCancelled(orderId: id, now: now)
    }
}

private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

extension PolicyEvent {
    var isRequest: Bool { if case .replenishRequested = self { true } else { false } }
    var isLowSupply: Bool { if case .lowSupply = self { true } else { false } }
}

extension [PolicyEvent] {
    var hasRequest: Bool { contains { $0.isRequest } }
    var lowSupplyCount: Int { filter { $0.isLowSupply }.count }
}

extension Result where Success == [PolicyEvent], Failure == CoreError {
    /// The reason answered; any other code than `.policyRejected` shows in it, so no test passes on it.
    var rejection: String? {
        if case .failure(let r) = self { r.code == .policyRejected ? r.reason : "\(r.code): \(r.reason)" } else { nil }
    }
    var events: [PolicyEvent]? { try? get() }
}

@Suite("replenishment policy: requests")
struct ReplenishmentRequestTests {
    @Test("a forecast request fires exactly when run-out enters lead time plus safety margin",
          arguments: [(7, 2), (7, 0), (10, 3), (14, 2)] as [(Int, Int)])
    func forecastBoundary(lead: Int, margin: Int) {
        var bench = PolicyBench(ReplenishmentSettings(mode: .device, leadTimeDays: lead, safetyMarginDays: margin))
        let now = PolicyBench.day(3)
        let horizon = Double(lead + margin) * 86_400
        let early = bench.policy.evaluate(remaining: 900, runOut: now.addingTimeInterval(horizon + 1), capacity: 1000,
                                          lowThreshold: nil, now: now)
        #expect(early.isEmpty)
        let runOut = now.addingTimeInterval(horizon)
        let due = bench.policy.evaluate(remaining: 900, runOut: runOut, capacity: 1000, lowThreshold: nil, now: now)
        #expect(due == [.replenishRequested(reason: "forecast", runOut: runOut, level: 900)])
        #expect(bench.policy.state(at: now) == .requested(at: now))
    }

    @Test("over a month, the forecast request comes on the first day run-out is within 9 days, once",
          arguments: [25.0, 30.0, 40.0, 60.0])
    func forecastMonth(rate: Double) {
        var bench = PolicyBench()
        let requests = bench.month(0...30, rate: rate, threshold: nil)
        let expected = (0...30).first { (PolicyBench.capacity - rate * Double($0)) / rate <= 9 }
        #expect(requests == expected.map { [$0] } ?? [])
    }

    @Test("three consecutive low readings request; a reading above the threshold resets the count", arguments: [
        ([150.0, 150, 150], 2 as Int?, 3),
        ([150, 150], nil, 3),
        ([150, 150, 250, 150, 150, 150], 5, 3),
        ([150, 250, 150, 250, 150, 150], nil, 3),
        ([300, 200, 199, 200], 3, 3),
        ([150], 0, 1),
        ([150, 150, 150, 150], 3, 4),
    ] as [([Double], Int?, Int)])
    func consecutiveLow(levels: [Double], requestAt: Int?, readings: Int) {
        var bench = PolicyBench(ReplenishmentSettings(mode: .device, lowReadingsToRequest: readings))
        let requests = levels.enumerated().filter { i, level in
            bench.read(level, at: PolicyBench.day(Double(i))).hasRequest
        }.map(\.offset)
        #expect(requests == requestAt.map { [$0] } ?? [])
    }

    @Test("the low-threshold request carries its reason and level, without a forecast")
    func lowThresholdEvent() {
        var bench = PolicyBench()
        _ = bench.read(150, at: PolicyBench.day(0))
        _ = bench.read(140, at: PolicyBench.day(1))
        #expect(bench.read(130, at: PolicyBench.day(2)) == [.replenishRequested(reason: "lowThreshold", runOut: nil, level: 130)])
    }

    @Test("one request per need: none while requested, placed or shipped", arguments: ["requested", "placed", "shipped"])
    func noDuplicates(stage: String) {
        var bench = PolicyBench()
        #expect(bench.month(0...30, rate: 40) == [16])
        if stage != "requested" { _ = bench.policy.orderPlaced(orderId: "o-1", now: PolicyBench.day(17)) }
        if stage == "shipped" { _ = bench.policy.orderShipped(orderId: "o-1", quantity: 1000, now: PolicyBench.day(18)) }
        #expect(bench.policy.state(at: PolicyBench.day(18)).name == stage)
        #expect(bench.month(19...49, from: 200, rate: 10).isEmpty)
    }

    @Test("cloud mode never requests but still emits lowSupply", arguments: [10.0, 40.0, 100.0])
    func cloudMode(rate: Double) {
        var bench = PolicyBench(ReplenishmentSettings(mode: .cloud))
        var events: [PolicyEvent] = []
        for n in 0...30 {
            events += bench.read(max(0, 1000 - rate * Double(n)), rate: rate, at: PolicyBench.day(Double(n)))
        }
        #expect(!events.hasRequest)
        #expect(events.lowSupplyCount == (rate * 30 >= 800 ? 1 : 0))
        #expect(bench.policy.state(at: PolicyBench.day(30)) == .idle)
    }
}

@Suite("replenishment policy: cancellations and refills")
struct ReplenishmentCancellationTests {
    @Test("first cancellation: request again after the retry days, not before", arguments: [5, 3, 1])
    func firstCancellation(retryDays: Int) {
        var bench = PolicyBench(ReplenishmentSettings(mode: .device, retryAfterCancelDays: retryDays))
        #expect(!bench.read(100, at: PolicyBench.day(0)).hasRequest)
        #expect(!bench.read(100, at: PolicyBench.day(1)).hasRequest)
        #expect(bench.read(100, at: PolicyBench.day(2)).hasRequest)
        let cancelledAt = PolicyBench.day(3.5)
        bench.placeAndCancel("o-1", at: cancelledAt)
        let until = cancelledAt.addingTimeInterval(Double(retryDays) * 86_400)
        #expect(bench.policy.state(at: cancelledAt) == .suppressedUntil(until))
        #expect(bench.policy.status(at: cancelledAt).suppressedUntil == until)
        // Still low every day: nothing until the retry date, then exactly one request.
        var requestDates: [Date] = []
        var now = cancelledAt
        while now < until.addingTimeInterval(3 * 86_400) {
            now = now.addingTimeInterval(3_600)
            if bench.read(100, at: now).hasRequest { requestDates.append(now) }
        }
        #expect(requestDates == [until])
    }

    @Test("a retry needs the need to still hold")
    func retryNeedsNeed() {
        var bench = PolicyBench()
        for n in 0...2 { _ = bench.read(100, at: PolicyBench.day(Double(n))) }
        bench.placeAndCancel("o-1", at: PolicyBench.day(3))
        _ = bench.read(400, at: PolicyBench.day(4))  // topped up by hand: the count resets
        #expect(!bench.read(150, at: PolicyBench.day(9)).hasRequest)
        #expect(!bench.read(150, at: PolicyBench.day(10)).hasRequest)
        #expect(bench.read(150, at: PolicyBench.day(11)).hasRequest)
    }

    @Test("second cancellation suppresses until refilled to 100 %", arguments: [
        (1000.0, true), (990, true), (980, true), (979, false), (600, false),
    ])
    func secondCancellation(refill: Double, clears: Bool) {
        var bench = PolicyBench()
        for n in 0...2 { _ = bench.read(100, at: PolicyBench.day(Double(n))) }
        bench.placeAndCancel("o-1", at: PolicyBench.day(3))
        #expect(bench.read(100, at: PolicyBench.day(8)).hasRequest)
        bench.placeAndCancel("o-2", at: PolicyBench.day(9))
        #expect(bench.policy.state(at: PolicyBench.day(9)) == .suppressedUntilFull)
        #expect(bench.policy.cancellations == 2)
        #expect(bench.month(10...30, from: 100, rate: 3).isEmpty)

        bench.policy.refilled(to: refill, from: 40, capacity: PolicyBench.capacity, now: PolicyBench.day(31))
        #expect(bench.policy.cancellations == (clears ? 0 : 2))
        #expect(bench.policy.state(at: PolicyBench.day(31)) == (clears ? .idle : .suppressedUntilFull))
        let requests = bench.month(31...61, from: refill, rate: 40)
        #expect(requests.isEmpty == !clears)
    }

    @Test("a refill to 100 % resets the cancellation count but keeps a first cancellation's 5-day wait")
    func fullRefillKeepsFirstWait() {
        var bench = PolicyBench()
        for n in 0...2 { _ = bench.read(100, at: PolicyBench.day(Double(n))) }
        bench.placeAndCancel("o-1", at: PolicyBench.day(3))
        bench.policy.refilled(to: 1000, capacity: 1000, now: PolicyBench.day(4))
        #expect(bench.policy.cancellations == 0)
        for n in 5...7 { #expect(!bench.read(150, at: PolicyBench.day(Double(n))).hasRequest, "day \(n): still waiting") }
        #expect(bench.read(150, at: PolicyBench.day(8)).hasRequest)
    }

    @Test("shipped quantity is on hand and a refill takes it", arguments: [
        (0.0, 1000.0, 0.0),
        (500, 1000, 500),
        (250, 400, 250),
    ] as [(Double, Double, Double)])
    func shippedOnHand(initial: Double, shipped: Double, after: Double) {
        var bench = PolicyBench()
        _ = bench.policy.inventoryAdjust(onHand: initial, remaining: nil, now: PolicyBench.day(0))
        _ = bench.policy.orderPlaced(orderId: "o-1", quantity: shipped, now: PolicyBench.day(1))
        let delivery = PolicyBench.day(5)
        _ = bench.policy.orderShipped(orderId: "o-1", quantity: shipped, estimatedDelivery: delivery, now: PolicyBench.day(2))
        #expect(bench.policy.totalQuantityOnHand == initial + shipped)
        #expect(bench.policy.pendingDeliveries == [.init(orderId: "o-1", quantity: shipped, estimatedDelivery: delivery)])
        #expect(bench.policy.status(at: PolicyBench.day(2)).totalQuantityOnHand == initial + shipped)

        let events = bench.policy.refilled(to: 1000, from: 50, capacity: 1000, now: PolicyBench.day(6))
        #expect(events == [.orderStateChanged(orderId: "o-1", state: "delivered", previous: "shipped")])
        #expect(bench.policy.totalQuantityOnHand == after)
        #expect(bench.policy.pendingDeliveries.isEmpty)
        #expect(bench.policy.state(at: PolicyBench.day(6)) == .idle)
    }

    @Test("a refill never takes on-hand stock below zero", arguments: [(0.0, 300.0), (100, 300), (500, 300)])
    func onHandFloor(onHand: Double, added: Double) {
        var bench = PolicyBench()
        _ = bench.policy.orderShipped(orderId: "o-1", quantity: 1000, now: PolicyBench.day(0))
        _ = bench.policy.inventoryAdjust(onHand: onHand, remaining: nil, now: PolicyBench.day(1))
        bench.policy.refilled(to: 1000, capacity: 1000, now: PolicyBench.day(2))
        #expect(bench.policy.totalQuantityOnHand == 0)
        // Without a shipment, what a refill added leaves the stock bought elsewhere.
        _ = bench.policy.inventoryAdjust(onHand: onHand, remaining: nil, now: PolicyBench.day(3))
        bench.policy.refilled(to: 200 + added, from: 200, capacity: 1000, now: PolicyBench.day(4))
        #expect(bench.policy.totalQuantityOnHand == max(0, onHand - added))
    }
}

@Suite("replenishment policy: commands")
struct ReplenishmentCommandTests {
    enum Stop: String, CaseIterable { case deregistered, unsubscribed }
    enum Resume: String, CaseIterable { case registered, subscribed }

    @Test("deregistration stops requests (not lowSupply) and registration re-enables them",
          arguments: Stop.allCases, Resume.allCases)
    func deregistration(stop: Stop, resume: Resume) {
        var bench = PolicyBench()
        let now = PolicyBench.day(0)
        switch stop {
        case .deregistered: #expect(bench.policy.deregistered(now: now).events == [])
        case .unsubscribed: #expect(bench.policy.subscriptionChanged(subscribed: false, now: now).events == [])
        }
        #expect(bench.policy.state(at: now).name == stop.rawValue)
        var events: [PolicyEvent] = []
        for n in 0...10 { events += bench.read(150, rate: 10, at: PolicyBench.day(Double(n))) }
        #expect(events == [.lowSupply(level: 150, threshold: 200)])
        switch resume {
        case .registered: _ = bench.policy.registered(now: PolicyBench.day(11))
        case .subscribed: _ = bench.policy.subscriptionChanged(subscribed: true, now: PolicyBench.day(11))
        }
        #expect(bench.read(150, rate: 10, at: PolicyBench.day(11)).hasRequest)
    }

    @Test("a deregistration drops an outstanding request and keeps following an open order")
    func deregistrationKeepsOrders() {
        var bench = PolicyBench()
        _ = bench.read(100, rate: 50, at: PolicyBench.day(0))
        #expect(bench.policy.requestedAt != nil)
        _ = bench.policy.orderShipped(orderId: "o-1", quantity: 500, now: PolicyBench.day(1))
        _ = bench.policy.deregistered(now: PolicyBench.day(2))
        #expect(bench.policy.status(at: PolicyBench.day(2)).orderId == "o-1")
        #expect(bench.policy.refilled(to: 600, capacity: 1000, now: PolicyBench.day(3)).count == 1)
        #expect(bench.policy.totalQuantityOnHand == 0)
    }

    /// One step of a command sequence.
    enum Step: Sendable, CustomStringConvertible {
        case placed(String), shipped(String, Double), cancelled(String)
        var description: String {
            switch self {
            case .placed(let id): "placed(\(id))"
            case .shipped(let id, let q): "shipped(\(id), \(q))"
            case .cancelled(let id): "cancelled(\(id))"
            }
        }
    }

    @Test("duplicate and out-of-order commands", arguments: [
        // steps, events emitted in total, final state, on hand, cancellations
        ([.placed("a"), .placed("a")], ["a:placed<none"], "placed", 0, 0),
        ([.shipped("a", 500), .shipped("a", 500)], ["a:shipped<none"], "shipped", 500, 0),
        ([.shipped("a", 500), .placed("a")], ["a:shipped<none"], "shipped", 500, 0),
        ([.placed("a"), .shipped("a", 500), .placed("a"), .shipped("a", 500)],
         ["a:placed<none", "a:shipped<placed"], "shipped", 500, 0),
        ([.placed("a"), .cancelled("a"), .cancelled("a")], ["a:placed<none", "a:cancelled<placed"], "suppressed", 0, 1),
        ([.placed("a"), .cancelled("a"), .placed("a")], ["a:placed<none", "a:cancelled<placed"], "suppressed", 0, 1),
        ([.placed("a"), .placed("b"), .shipped("b", 300), .shipped("a", 200)],
         ["a:placed<none", "b:placed<none", "b:shipped<placed", "a:shipped<placed"], "shipped", 500, 0),
    ] as [([Step], [String], String, Double, Int)])
    func duplicatesAndOrder(steps: [Step], expected: [String], state: String, onHand: Double, cancellations: Int) {
        var bench = PolicyBench()
        var seen: [String] = []
        for (i, step) in steps.enumerated() {
            let now = PolicyBench.day(Double(i))
            let result = switch step {
            case .placed(let id): bench.policy.orderPlaced(orderId: id, now: now)
            case .shipped(let id, let q): bench.policy.orderShipped(orderId: id, quantity: q, now: now)
            case .cancelled(let id): bench.policy.orderCancelled(orderId: id, now: now)
            }
            guard case .success(let events) = result else {
                Issue.record("\(step) rejected: \(result.rejection ?? "")")
                continue
            }
            for case let .orderStateChanged(id, new, previous) in events { seen.append("\(id):\(new)<\(previous)") }
        }
        #expect(seen == expected)
        #expect(bench.policy.state(at: PolicyBench.day(Double(steps.count))).name == state)
        #expect(bench.policy.totalQuantityOnHand == onHand)
        #expect(bench.policy.cancellations == cancellations)
    }

    @Test("what the policy refuses, and why", arguments: [
        ([Step](), Step.cancelled("x"), "unknown order 'x'"),
        ([.placed("a")], .cancelled("b"), "unknown order 'b'"),
        ([.placed("a"), .cancelled("a")], .shipped("a", 100), "order 'a' was cancelled; a shipment after its cancellation is refused"),
        ([.shipped("a", 100)], .cancelled("a"), "order 'a' has shipped and can no longer be cancelled"),
        ([.placed("a")], .shipped("a", 0), "quantity must be a positive number"),
    ] as [([Step], Step, String)])
    func refused(before: [Step], step: Step, reason: String) {
        var bench = PolicyBench()
        let now = PolicyBench.day(0)
        for s in before {
            switch s {
            case .placed(let id): _ = bench.policy.orderPlaced(orderId: id, now: now)
            case .shipped(let id, let q): _ = bench.policy.orderShipped(orderId: id, quantity: q, now: now)
            case .cancelled(let id): _ = bench.policy.orderCancelled(orderId: id, now: now)
            }
        }
        let snapshot = bench.policy
        let result = switch step {
        case .placed(let id): bench.policy.orderPlaced(orderId: id, now: now)
        case .shipped(let id, let q): bench.policy.orderShipped(orderId: id, quantity: q, now: now)
        case .cancelled(let id): bench.policy.orderCancelled(orderId: id, now: now)
        }
        #expect(result.rejection == reason)
        #expect(bench.policy == snapshot, "a refused command changes nothing")
    }

    @Test("inventoryAdjust sets on-hand stock and checks its quantities", arguments: [
        (250.0 as Double?, nil as Double?, nil as String?, 250.0),
        (nil, 300, nil, 100),
        (0, 300, nil, 0),
        (nil, nil, "inventoryAdjust needs an on-hand or a remaining quantity", 100),
        (-1, nil, "quantities must be numbers of 0 or more", 100),
        (nil, .nan, "quantities must be numbers of 0 or more", 100),
    ])
    func inventoryAdjust(onHand: Double?, remaining: Double?, rejection: String?, after: Double) {
        var policy = ReplenishmentPolicy()
        _ = policy.inventoryAdjust(onHand: 100, remaining: nil, now: PolicyBench.day(0))
        let result = policy.inventoryAdjust(onHand: onHand, remaining: remaining, now: PolicyBench.day(1))
        #expect(result.rejection == rejection)
        #expect(policy.totalQuantityOnHand == after)
    }

    @Test("decoded commands reach the policy through apply")
    func applyDecoded() throws {
        var policy = ReplenishmentPolicy(settings: ReplenishmentSettings(mode: .device))
        let now = PolicyBench.day(0)
        let payloads = [
            ("orderPlaced", #"{"correlationId":"1","slot":"beans","orderId":"o-9","quantity":2}"#),
            ("orderShipped", #"{"correlationId":"2","slot":"beans","orderId":"o-9","quantity":2,"estimatedDeliveryDate":"2026-11-05T10:00:00Z"}"#),
            ("inventoryAdjust", #"{"correlationId":"3","slot":"beans","totalQuantityOnHand":3}"#),
            ("deregistered", #"{"correlationId":"4"}"#),
        ]
        for (name, payload) in payloads {
            let request = try CommandDecoder.decode(name: name, payload: Array(payload.utf8), knownSlots: ["beans"]).get()
            #expect(throws: Never.self) { try policy.apply(request.command, capacity: 1000, now: now).get() }
        }
        #expect(policy.totalQuantityOnHand == 3)
        #expect(policy.pendingDeliveries.first?.estimatedDelivery == Timestamp.parse("2026-11-05T10:00:00Z"))
        #expect(policy.state(at: now) == .deregistered)
        #expect(policy.apply(.reportNow, capacity: 1000, now: now).rejection == "reportNow is not a replenishment command")
    }
}

@Suite("replenishment policy: lowSupply, persistence, status")
struct ReplenishmentLowSupplyTests {
    @Test("lowSupply fires once per crossing and re-arms only above threshold plus hysteresis", arguments: [
        ([300.0, 190, 180, 210, 190], 1),
        ([300, 190, 260, 190], 2),
        ([300, 190, 250, 190], 1),
        ([300, 200], 1),
        ([150], 1),
        ([300, 190, 300, 190, 300, 190], 3),
        ([300, 201, 300], 0),
    ] as [([Double], Int)])
    func hysteresis(levels: [Double], count: Int) {
        for mode in ReplenishmentSettings.Mode.allCases {
            var bench = PolicyBench(ReplenishmentSettings(mode: mode))
            let fired = levels.enumerated().flatMap { i, level in
                bench.read(level, at: PolicyBench.day(Double(i))).filter(\.isLowSupply)
            }
            #expect(fired.count == count, "\(mode)")
        }
    }

    @Test("the hysteresis is a fraction of capacity", arguments: [(0.05, 1), (0.01, 2)])
    func hysteresisFraction(fraction: Double, count: Int) {
        var bench = PolicyBench(ReplenishmentSettings(mode: .cloud, lowSupplyHysteresis: fraction))
        let fired = [190.0, 230, 190].enumerated().flatMap { i, level in
            bench.read(level, at: PolicyBench.day(Double(i))).filter(\.isLowSupply)
        }
        #expect(fired.count == count)
    }

    @Test("the policy survives a JSON round trip in every state", arguments: 0..<5)
    func codableRoundTrip(stage: Int) throws {
        var bench = PolicyBench(ReplenishmentSettings(mode: .device, leadTimeDays: 9))
        for n in 0...2 { _ = bench.read(100, at: PolicyBench.day(Double(n))) }
        if stage >= 1 { bench.placeAndCancel("o-1", at: PolicyBench.day(3)) }
        if stage >= 2 { _ = bench.policy.orderShipped(orderId: "o-2", quantity: 750, estimatedDelivery: PolicyBench.day(9), now: PolicyBench.day(4)) }
        if stage >= 3 { bench.policy.refilled(to: 990, capacity: 1000, now: PolicyBench.day(10)) }
        if stage >= 4 { _ = bench.policy.subscriptionChanged(subscribed: false, now: PolicyBench.day(11)) }
        let data = try JSONEncoder().encode(bench.policy)
        let restored = try JSONDecoder().decode(ReplenishmentPolicy.self, from: data)
        #expect(restored == bench.policy)
        // The restored policy goes on the same way.
        var a = bench.policy, b = restored
        let now = PolicyBench.day(30)
        #expect(a.evaluate(remaining: 100, runOut: now, capacity: 1000, lowThreshold: 200, now: now)
            == b.evaluate(remaining: 100, runOut: now, capacity: 1000, lowThreshold: 200, now: now))
    }

    @Test("a stored policy without newer fields decodes to the defaults")
    func decodesEmpty() throws {
        let policy = try JSONDecoder().decode(ReplenishmentPolicy.self, from: Data("{}".utf8))
        #expect(policy == ReplenishmentPolicy())
    }

    @Test("the status report's replenishment member")
    func statusJSON() throws {
        var bench = PolicyBench()
        for n in 0...2 { _ = bench.read(100, at: PolicyBench.day(Double(n))) }
        bench.placeAndCancel("o-1", at: PolicyBench.day(3))
        _ = bench.policy.inventoryAdjust(onHand: 0.1 + 0.2, remaining: nil, now: PolicyBench.day(3))
        let json = String(decoding: try WireJSON.encode(bench.policy.status(at: PolicyBench.day(4))), as: UTF8.self)
        #expect(json == #"{"cancellations":1,"mode":"device","orderId":null,"requestedAt":null,"state":"suppressed","suppressedUntil":"2026-11-09T08:00:00Z","totalQuantityOnHand":0.3}"#)

        _ = bench.policy.orderPlaced(orderId: "o-2", now: PolicyBench.day(9))
        let placed = bench.policy.status(at: PolicyBench.day(9))
        #expect(placed.state == "placed" && placed.orderId == "o-2" && placed.suppressedUntil == nil)
    }
}
