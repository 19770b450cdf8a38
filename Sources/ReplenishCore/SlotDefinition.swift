/// One consumable the appliance holds: what it is measured in and how the ledger treats its readings.
public struct SlotDefinition: Sendable, Hashable, Codable {
    /// Stable identifier, also the `slot` field of reports.
    public var id: String
    public var sensor: SensorKind
    public var measurement: Measurement
    /// A full slot, in the measurement's unit (`originalQuantityInUnit`).
    public var capacity: Double
    /// A level rising by more than this (in the unit) is a refill, not negative consumption.
    public var refillHysteresis: Double
    /// Remaining quantity at or below which the slot counts as low; nil when unset.
    public var lowThreshold: Double?
    /// How many recent whole days of consumption feed the run-out forecast.
    public var forecastWindowDays: Int
    /// Alexa inventory sensor instance name, the same on every unit of a model.
    public var alexaInstance: String
    /// The slot's id at Dash Replenishment (DRS notifications name it as `orderInfo.slotId`);
    /// nil when the maker registered none.
    public var drsSlotId: String?
    /// A level slot's ChangeReport goes to Alexa only when its level moved by more than this (in
    /// the unit) since the last one sent: 1 % of the capacity unless `alexa_level_step` says otherwise.
    public var alexaLevelStep: Double

    public init(
        id: String,
        sensor: SensorKind,
        measurement: Measurement,
        capacity: Double,
        refillHysteresis: Double? = nil,
        lowThreshold: Double? = nil,
        forecastWindowDays: Int = 14,
        alexaInstance: String? = nil,
        drsSlotId: String? = nil,
        alexaLevelStep: Double? = nil
    ) {
        self.id = id
        self.sensor = sensor
        self.measurement = measurement
        self.capacity = capacity
        self.refillHysteresis = refillHysteresis ?? capacity * 0.05
        self.lowThreshold = lowThreshold
        self.forecastWindowDays = forecastWindowDays
        self.alexaInstance = alexaInstance ?? SlotDefinition.defaultInstance(for: id, sensor: sensor)
        self.drsSlotId = drsSlotId
        self.alexaLevelStep = alexaLevelStep ?? capacity * 0.01
    }

    static func defaultInstance(for id: String, sensor: SensorKind) -> String {
        let name = id.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
            .map { $0.prefix(1).uppercased() + $0.dropFirst() }
            .joined()
        switch sensor {
        case .level: return "\(name).Level"
        case .usage: return "\(name).Usage"
        case .levelUsage: return "\(name).LevelUsage"
        }
    }
}
