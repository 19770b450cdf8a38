import ReplenishHardware

/// Opens the hardware behind a slot's `source:` (GPIO chips and lines, I2C devices).
enum HardwareSources {
    static func open(_ slot: SlotConfig) throws -> any SensorSource {
        throw AgentError(.unsupported, "slots[\(slot.definition.id)].source: driver '\(slot.source.driver.rawValue)' "
                         + "needs the Linux GPIO/I2C layer, which this build does not include yet; run with --simulate")
    }
}
