import Foundation
@testable import ReplenishAgent
import ReplenishCore
import ReplenishHardware
import Testing

/// `probe` shows what the ledger would see (issue 14: it showed 1.8 "MILLILITER" for a source the
/// daemon calibrates to 1800 mL, because it skipped the filters).
@Suite("probe through the daemon's pipeline")
struct ProbePipelineTests {
    static func slot() throws -> SlotConfig {
        let yaml = """
            device: {id: probe-test}
            mqtt: {url: "mqtt://127.0.0.1"}
            storage: {path: /tmp/probe-test.db}
            report: {daily_at: "03:00"}
            slots:
              - {id: water_tank, sensor: level, measurement: {type: Volume, unit: LITER}, capacity: 1.8, source: {driver: simulated}}
            """
        var config = try ConfigLoader.parse(yaml, fileName: "cfg.yaml")
        config.slots[0].source.filters = [.calibrate(points: [CalibrationPoint(raw: 0, value: 0), CalibrationPoint(raw: 2, value: 1.8)])]
        return config.slots[0]
    }

    @Test("a raw value is shown calibrated, as the ledger sees it, beside the raw reading")
    func calibrated() throws {
        let slot = try Self.slot()
        var sampler = SlotPipeline(source: slot.source, definition: slot.definition)
        let source = ScriptedRawSource(slot: slot.definition.id, script: [1.0, 1e9, nil])
        let line = Probe.read(slot, .success(source), sampler: &sampler, at: Date(), monotonic: 0)
        #expect(line.ok)
        #expect(line.raw == "1 V")
        #expect(line.result.hasPrefix("level 0.9 LITER"), "\(line.result)")
        // What the daemon would hold back, probe says it holds back.
        let absurd = Probe.read(slot, .success(source), sampler: &sampler, at: Date(), monotonic: 1)
        #expect(absurd.result.hasPrefix("held back by the filters"), "\(absurd.result)")
        let failed = Probe.read(slot, .success(source), sampler: &sampler, at: Date(), monotonic: 2)
        #expect(!failed.ok)
    }
}
