import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishHardware
import Synchronization
import Testing

struct BusDown: Error, CustomStringConvertible {
    var description: String { "busFailure: no answer from 0x48 on /dev/i2c-1" }
}

/// The filters, slot bounds and health themselves are `SlotPipelineTests` (ReplenishHardwareTests);
/// here, that the daemon's sampler is the pipeline its slot's config describes.
@Suite("from a source's reads to what the ledger sees")
struct SlotSamplerTests {
    static let water = SlotDefinition(id: "water", sensor: .level, measurement: Measurement(type: .volume, unit: .milliliter),
                                      capacity: 1800)

    @Test("a slot's sampler is the pipeline its source config describes: filters, health counts and slot bounds")
    func sameAsPipeline() throws {
        let filters: [SensorFilter] = [.calibrate(points: [CalibrationPoint(raw: 0, value: 0), CalibrationPoint(raw: 2, value: 1800)]),
                                       .plausibility(PlausibilityLimits(minValue: 0, maxValue: 5000))]
        var sampler = SlotPipeline(source: SourceConfig(driver: .ads1115, filters: filters,
                                                       health: HealthSettings(faultAfter: 2, recoverAfter: 1)),
                                  definition: Self.water)
        var pipeline = SlotPipeline(chain: try FilterChain(filters), tracker: SensorHealthTracker(faultAfter: 2, recoverAfter: 1),
                                    bounds: Self.water)
        let reads: [Result<SourceRead, any Error>] = [
            .success(.raw(1.0)), .success(.raw(5.0)), .failure(BusDown()), .success(.raw(1.5)),
            .success(.observations([.replaced(nil)])), .success(.raw(9.0)),
        ]
        var samples: [SlotSample] = []
        for (index, read) in reads.enumerated() {
            let sample = sampler.take(read, monotonic: Double(index))
            #expect(sample == pipeline.take(read, monotonic: Double(index)), "read \(index)")
            samples.append(sample)
        }
        // 4500 mL passes the filter's limits but not the slot's; the bus error makes two bad in a
        // row; 8100 mL the filter refuses.
        #expect(samples.map(\.health) == [.ok, .degraded, .fault, .ok, .ok, .degraded])
        #expect(samples.map(\.observations) == [[.level(900)], [], [], [.level(1350)], [.replaced(nil)], []])
        #expect(samples.compactMap(\.transition).count == 2)
    }

    @Test("a value the filters let through but the slot cannot hold is nonsense: kept from the ledger, and it faults the slot")
    func slotBounds() {
        // No plausibility filter: only the slot's own bounds stand between a broken ADC and the ledger.
        var sampler = SlotPipeline(source: SourceConfig(driver: .ads1115, filters: [], health: HealthSettings(faultAfter: 2, recoverAfter: 1)),
                                  definition: Self.water)
        #expect(sampler.take(.success(.raw(900)), monotonic: 0).observations == [.level(900)])
        let first = sampler.take(.success(.raw(1e308)), monotonic: 1)
        #expect(first.observations.isEmpty)
        #expect(first.health == .degraded)
        guard case .fault(let reason)? = sampler.take(.success(.raw(5e5)), monotonic: 2).transition else {
            Issue.record("no fault")
            return
        }
        #expect(reason.contains("impossible for a slot of capacity 1800"), "\(reason)")
        #expect(sampler.take(.success(.raw(850)), monotonic: 3).transition == .recovered)
    }
}

/// A raw-value source that plays back a script, one entry per sample (nil = a bus error).
final class ScriptedRawSource: RawValueSource {
    let slot: String
    let sampleIntervalSeconds: Double = 600
    let rawUnit = "V"
    private let script: Mutex<[Double?]>

    init(slot: String, script: [Double?]) {
        self.slot = slot
        self.script = Mutex(script)
    }

    func readRaw() throws -> Double {
        let next = script.withLock { $0.isEmpty ? 1.0 : $0.removeFirst() }
        guard let next else { throw BusDown() }
        return next
    }
}

@Suite("sensor faults through a real broker", .serialized)
struct SensorFaultDeliveryTests {
    @Test("a failing sensor faults once with its reason, the report says fault, the ledger stands still, and it recovers")
    func faultEvents() async throws {
        // water: 1.0 V = 900 mL; then bus errors for an hour (the report in between sees the fault); then good readings.
        let source = ScriptedRawSource(slot: "water", script: [1.0, nil, nil, nil, nil, nil, nil, 0.9, 0.9, 0.9, 0.9])
        let h = try await DeliveryTests.Harness(device: "fault-test", replacing: [source]) { config in
            config.slots[0].source.filters = [.calibrate(points: [CalibrationPoint(raw: 0, value: 0), CalibrationPoint(raw: 2, value: 1800)])]
        }
        try await h.connected()
        // Reads every 10 minutes: the first is good, the next three fail.
        for _ in 1...6 { try await h.advance(by: 600) }
        try await h.subscriber.waitFor("the fault") { $0.contains { $0.json.contains(#""sensorFault""#) } }
        try await h.subscriber.waitFor("a report while faulty") { $0.filter { $0.reason == "periodic" }.count == 1 }
        // Three good reads recover it.
        for _ in 1...6 { try await h.advance(by: 600) }
        try await h.subscriber.waitFor("the recovery") { $0.contains { $0.json.contains(#""sensorRecovered""#) } }
        try await h.stop()

        let fault = try #require(h.subscriber.messages.first { $0.json.contains(#""sensorFault""#) })
        #expect(fault.json.contains("no answer from 0x48"))
        #expect(h.subscriber.messages.filter { $0.json.contains(#""sensorFault""#) }.count == 1)
        #expect(h.subscriber.messages.filter { $0.json.contains(#""sensorRecovered""#) }.count == 1)
        let faulty = try #require(h.subscriber.messages.first { $0.reason == "periodic" })
        #expect(faulty.json.contains(#""health":"fault""#))
    }
}
