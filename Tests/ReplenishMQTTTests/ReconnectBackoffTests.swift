import Testing
@testable import ReplenishMQTT

@Suite("Reconnect backoff")
struct ReconnectBackoffTests {
    let backoff = ReconnectBackoff(minimum: 0.5, maximum: 30)

    @Test("the jitter range doubles per failure up to the maximum", arguments: [
        (0, 0.5), (1, 1.0), (2, 2.0), (5, 16.0), (6, 30.0), (100, 30.0),
    ])
    func upperBound(failures: Int, cap: Double) {
        #expect(backoff.delay(afterFailures: failures, random: { $0.upperBound }) == cap)
        #expect(backoff.delay(afterFailures: failures, random: { $0.lowerBound }) == 0.5)
    }

    @Test("random delays stay within [minimum, maximum]")
    func withinBounds() {
        for failures in 0..<40 {
            let delay = backoff.delay(afterFailures: failures)
            #expect(delay >= 0.5 && delay <= 30)
        }
    }
}
