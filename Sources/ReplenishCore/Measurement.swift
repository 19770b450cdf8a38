/// How a slot knows its consumable: what is left, what was used, or uses and replacements.
public enum SensorKind: String, Sendable, Codable, CaseIterable {
    case level
    case usage
    case levelUsage
}

/// Alexa's measurement types (`@type` in inventory sensor payloads).
public enum MeasurementType: String, Sendable, Codable, CaseIterable {
    case count = "Count"
    case percentage = "Percentage"
    case volume = "Volume"
    case weight = "Weight"

    /// The units Alexa accepts for this type; empty for types that carry no unit.
    public var units: [MeasurementUnit] {
        switch self {
        case .count, .percentage: []
        case .volume: [.milliliter, .liter, .usFluidOunce, .cubicFoot, .cubicMeter, .gallon]
        case .weight: [.gram, .kilogram, .ounce, .pound, .milligram]
        }
    }
}

/// Alexa's unit names for volume and weight.
public enum MeasurementUnit: String, Sendable, Codable, CaseIterable {
    case milliliter = "MILLILITER"
    case liter = "LITER"
    case usFluidOunce = "US_FLUID_OUNCE"
    case cubicFoot = "CUBIC_FOOT"
    case cubicMeter = "CUBIC_METER"
    case gallon = "US_GALLON"
    case gram = "GRAM"
    case kilogram = "KILOGRAM"
    case milligram = "MILLIGRAM"
    case ounce = "OUNCE"
    case pound = "POUND"
}

/// A slot's measurement: a type and, for volume and weight, a unit.
public struct Measurement: Sendable, Codable, Hashable {
    public var type: MeasurementType
    public var unit: MeasurementUnit?

    public init(type: MeasurementType, unit: MeasurementUnit? = nil) {
        self.type = type
        self.unit = unit
    }
}
