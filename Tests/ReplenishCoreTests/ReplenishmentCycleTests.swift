import Foundation
@testable import ReplenishCore
import Testing
import ReplenishTestSupport

/// The whole cycle with a real ledger and its forecast: a slot used every day, a simulated cloud
/// that places, cancels once, places again and ships, and the refill the delivery brings.
@Suite("replenishment cycle")
struct ReplenishmentCycleTests {
    @Test("a month and a half of use: request, cancellation, retry, shipment, refill; never run out",
          arguments: [50.0, 80.0])
    func cycle(perDay: Double) {
        let slot = SlotDefinition(id: "water", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
                                  capacity: 1000, lowThreshold: 200, forecastWindowDays: 7)
        var ledger = LedgerHarness(slot, zone: Fixture.utc)
        var policy = ReplenishmentPolicy(settings: ReplenishmentSettings(mode: .device))
        let start = Fixture.utc(2026, 11, 1, 0)
        var level = slot.capacity
        var log: [(Date, String)] = []
        var cancelledAt: Date?
        var previousRunOut: Date?
        var shippedOn: Date?

        for hour in stride(from: 6, to: 45 * 24, by: 6) {
            let now = start.addingTimeInterval(Double(hour) * 3_600)
            level = max(0, level - perDay / 4)
            if let shipped = shippedOn, now >= shipped.addingTimeInterval(2 * 86_400) {
                let events = ledger.apply(.level(slot.capacity), at: now)
                for case let .refilled(_, from, to, _) in events {
                    for event in policy.refilled(to: to, from: from, capacity: slot.capacity, now: now) {
                        if case .orderStateChanged(let id, let state, _) = event { log.append((now, "\(id) \(state)")) }
                    }
                }
                level = slot.capacity
                shippedOn = nil
            } else {
                ledger.apply(.level(level), at: now)
            }
            #expect(level > 0, "ran out at \(now)")

            let runOut = ledger.ledger.expectedRunOut(asOf: now, window: slot.forecastWindowDays, zone: Fixture.utc)
            for event in policy.evaluate(remaining: ledger.ledger.remaining, runOut: runOut, capacity: slot.capacity,
                                         lowThreshold: slot.lowThreshold, now: now) {
                guard case .replenishRequested(let reason, _, _) = event else { continue }
                log.append((now, "requested \(reason)"))
                if reason == "forecast", let runOut {
                    #expect(runOut.timeIntervalSince(now) <= 9 * 86_400)
                    if let previousRunOut, cancelledAt == nil {
                        #expect(previousRunOut.timeIntervalSince(now.addingTimeInterval(-6 * 3_600)) > 9 * 86_400,
                                "the request came one reading late")
                    }
                }
                // The simulated cloud answers the next day; it cancels the first order.
                let id = "order-\(log.count)"
                _ = policy.orderPlaced(orderId: id, quantity: slot.capacity, now: now.addingTimeInterval(3_600))
                if cancelledAt == nil {
                    cancelledAt = now.addingTimeInterval(7_200)
                    _ = policy.orderCancelled(orderId: id, now: cancelledAt!)
                } else {
                    _ = policy.orderShipped(orderId: id, quantity: slot.capacity, now: now.addingTimeInterval(7_200))
                    shippedOn = now
                }
            }
            previousRunOut = runOut
        }

        let requests = log.filter { $0.1.hasPrefix("requested") }
        #expect(requests.count >= 2)
        if requests.count >= 2, let cancelledAt {
            #expect(requests[1].0.timeIntervalSince(cancelledAt) >= 5 * 86_400, "retried before 5 days")
            #expect(requests[1].0.timeIntervalSince(cancelledAt) < 5 * 86_400 + 6 * 3_600, "retried late")
        }
        #expect(log.contains { $0.1.hasSuffix("delivered") })
        // On hand is exactly what is still on its way (a later cycle may have shipped again).
        #expect(policy.totalQuantityOnHand == policy.pendingDeliveries.reduce(0) { $0 + $1.quantity })
        #expect(policy.cancellations == 0, "refilled to 100 % resets the count")
    }
}
