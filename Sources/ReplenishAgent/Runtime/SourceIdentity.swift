extension SlotConfig {
    /// True when a source opened for `other` serves this slot as it is: what a source is built
    /// from (driver settings, simulation, the slot's id, kind, unit and capacity) is the same. A
    /// threshold, a lead time or an Alexa name changes only what the ledger makes of the readings,
    /// so a reload (or a remote change) of those keeps the source open and counting.
    func opensSameSource(as other: SlotConfig) -> Bool {
        definition.id == other.definition.id && definition.sensor == other.definition.sensor
            && definition.measurement == other.definition.measurement && definition.capacity == other.definition.capacity
            && source == other.source && simulation == other.simulation
    }
}
