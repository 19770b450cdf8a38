import FoundationEssentials
import ReplenishCore

/// A source that measures one number per sample in the sensor's own unit (HX711 counts, volts,
/// percent, a register's scaled value), before any calibration.
///
/// `SlotPipeline` puts the slot's filter chain (calibrate, median, clamp, ...) between `readRaw()`
/// and the ledger. The default `sample(at:)` reports the raw number unchanged as `.level`, which is
/// only right for a slot with no calibration (e.g. a fuel gauge's percent on a `Percentage` slot).
public protocol RawValueSource: SensorSource {
    /// The unit `readRaw()` returns, for `replenishd probe` ("counts", "V", "%").
    var rawUnit: String { get }
    /// One blocking measurement; throws `HardwareError` when the hardware fails after its retries.
    func readRaw() throws -> Double
}

extension RawValueSource {
    public func sample(at now: Date) throws -> [Observation] {
        [.level(try readRaw())]
    }
}
