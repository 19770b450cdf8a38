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

    /// The units Alexa accepts for this type, in Alexa's order; empty for types that carry no unit.
    ///
    /// Exactly the `unit` enums of the inventory sensors' Volume and Weight measurements (the
    /// `level` property and `configuration.measurement`) in Amazon's machine-generated Smart Home
    /// message schema, https://github.com/alexa-samples/alexa-smarthome/blob/master/validation_schemas/alexa_smart_home_message_schema.json
    /// (checked at commit d592bcf, 2025-07-03). The interface pages point to the property reference:
    /// https://developer.amazon.com/en-US/docs/alexa/device-apis/alexa-inventorylevelsensor.html,
    /// https://developer.amazon.com/en-US/docs/alexa/device-apis/alexa-inventoryusagesensor.html,
    /// https://developer.amazon.com/en-US/docs/alexa/device-apis/alexa-inventorylevelusagesensor.html,
    /// https://developer.amazon.com/en-US/docs/alexa/device-apis/alexa-property-schemas.html
    /// MeasurementTests pins both lists, so a change here is a deliberate one.
    public var units: [MeasurementUnit] {
        switch self {
        case .count, .percentage: []
        case .volume: [
            .liter, .milliliter, .metricCup, .metricTeaspoon, .ukTablespoon, .auTablespoon,
            .cubicCentimeter, .cubicMeter,
            .ukGallon, .ukQuart, .ukPint, .ukCup, .ukGill, .ukFluidOunce, .ukFluidDram,
            .cubicInch, .cubicFoot, .cubicYard,
            .usFluidGallon, .usFluidQuart, .usFluidPint, .usFluidCup, .usFluidOunce, .usGill,
            .usTablespoon, .usTeaspoon, .usDram, .usDryGallon, .usDryQuart, .usDryPint,
        ]
        case .weight: [.kilogram, .gram, .milligram, .microgram, .metricPound, .pound, .ounce, .dram]
        }
    }
}

/// Alexa's unit names for volume and weight (see `MeasurementType.units` for the source).
public enum MeasurementUnit: String, Sendable, Codable, CaseIterable {
    // Volume
    case liter = "LITER"
    case milliliter = "MILLILITER"
    case metricCup = "METRIC_CUP"
    case metricTeaspoon = "METRIC_TEASPOON"
    case ukTablespoon = "UK_TABLESPOON"
    case auTablespoon = "AU_TABLESPOON"
    case cubicCentimeter = "CUBIC_CENTIMETER"
    case cubicMeter = "CUBIC_METER"
    case ukGallon = "UK_GALLON"
    case ukQuart = "UK_QUART"
    case ukPint = "UK_PINT"
    case ukCup = "UK_CUP"
    case ukGill = "UK_GILL"
    case ukFluidOunce = "UK_FLUID_OUNCE"
    case ukFluidDram = "UK_FLUID_DRAM"
    case cubicInch = "CUBIC_INCH"
    case cubicFoot = "CUBIC_FOOT"
    case cubicYard = "CUBIC_YARD"
    case usFluidGallon = "US_FLUID_GALLON"
    case usFluidQuart = "US_FLUID_QUART"
    case usFluidPint = "US_FLUID_PINT"
    case usFluidCup = "US_FLUID_CUP"
    case usFluidOunce = "US_FLUID_OUNCE"
    case usGill = "US_GILL"
    case usTablespoon = "US_TABLESPOON"
    case usTeaspoon = "US_TEASPOON"
    case usDram = "US_DRAM"
    case usDryGallon = "US_DRY_GALLON"
    case usDryQuart = "US_DRY_QUART"
    case usDryPint = "US_DRY_PINT"
    // Weight
    case kilogram = "KILOGRAM"
    case gram = "GRAM"
    case milligram = "MILLIGRAM"
    case microgram = "MICROGRAM"
    case metricPound = "METRIC_POUND"
    case pound = "POUND"
    case ounce = "OUNCE"
    case dram = "DRAM"

    /// The measurement type this unit belongs to.
    public var type: MeasurementType {
        MeasurementType.weight.units.contains(self) ? .weight : .volume
    }

    /// A short label for people (the demo's screen), not a wire name.
    public var symbol: String {
        switch self {
        case .liter: "L"
        case .milliliter: "mL"
        case .metricCup: "metric cup"
        case .metricTeaspoon: "metric tsp"
        case .ukTablespoon: "UK tbsp"
        case .auTablespoon: "AU tbsp"
        case .cubicCentimeter: "cm³"
        case .cubicMeter: "m³"
        case .ukGallon: "UK gal"
        case .ukQuart: "UK qt"
        case .ukPint: "UK pt"
        case .ukCup: "UK cup"
        case .ukGill: "UK gi"
        case .ukFluidOunce: "UK fl oz"
        case .ukFluidDram: "UK fl dr"
        case .cubicInch: "in³"
        case .cubicFoot: "ft³"
        case .cubicYard: "yd³"
        case .usFluidGallon: "gal"
        case .usFluidQuart: "qt"
        case .usFluidPint: "pt"
        case .usFluidCup: "cup"
        case .usFluidOunce: "fl oz"
        case .usGill: "gi"
        case .usTablespoon: "tbsp"
        case .usTeaspoon: "tsp"
        case .usDram: "fl dr"
        case .usDryGallon: "dry gal"
        case .usDryQuart: "dry qt"
        case .usDryPint: "dry pt"
        case .kilogram: "kg"
        case .gram: "g"
        case .milligram: "mg"
        case .microgram: "µg"
        case .metricPound: "metric lb"
        case .pound: "lb"
        case .ounce: "oz"
        case .dram: "dr"
        }
    }
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
