import Testing
@testable import ReplenishCore

/// The units are Alexa's and nobody else's: the cloud forwards a slot's measurement untouched, so a
/// name Alexa does not know is a message Alexa refuses. The lists below are the `unit` enums of the
/// inventory sensors' Volume and Weight measurements in Amazon's Smart Home message schema
/// (alexa-samples/alexa-smarthome, validation_schemas/alexa_smart_home_message_schema.json, commit
/// d592bcf); changing one means changing this test too, on purpose.
@Suite("Measurement units: exactly Alexa's lists")
struct MeasurementTests {
    static let documented: [MeasurementType: [String]] = [
        .count: [],
        .percentage: [],
        .volume: [
            "LITER", "MILLILITER", "METRIC_CUP", "METRIC_TEASPOON", "UK_TABLESPOON", "AU_TABLESPOON",
            "CUBIC_CENTIMETER", "CUBIC_METER",
            "UK_GALLON", "UK_QUART", "UK_PINT", "UK_CUP", "UK_GILL", "UK_FLUID_OUNCE", "UK_FLUID_DRAM",
            "CUBIC_INCH", "CUBIC_FOOT", "CUBIC_YARD",
            "US_FLUID_GALLON", "US_FLUID_QUART", "US_FLUID_PINT", "US_FLUID_CUP", "US_FLUID_OUNCE", "US_GILL",
            "US_TABLESPOON", "US_TEASPOON", "US_DRAM", "US_DRY_GALLON", "US_DRY_QUART", "US_DRY_PINT",
        ],
        .weight: ["KILOGRAM", "GRAM", "MILLIGRAM", "MICROGRAM", "METRIC_POUND", "POUND", "OUNCE", "DRAM"],
    ]

    @Test("each type's units are the documented list, in Alexa's order", arguments: MeasurementType.allCases)
    func units(_ type: MeasurementType) throws {
        let expected = try #require(Self.documented[type])
        #expect(type.units.map(\.rawValue) == expected)
    }

    @Test("every unit belongs to exactly one type, and no unit is left over")
    func partition() {
        let listed = MeasurementType.allCases.flatMap(\.units)
        #expect(listed.count == Set(listed).count)
        #expect(Set(listed) == Set(MeasurementUnit.allCases))
        for type in MeasurementType.allCases {
            for unit in type.units { #expect(unit.type == type, "\(unit.rawValue)") }
        }
    }

    @Test("names Alexa does not have are not units", arguments: ["US_GALLON", "GALLON", "FLUID_OUNCE", "TEASPOON",
                                                                  "US_DRY_OUNCE", "liter", "Liter", "TON"])
    func notAUnit(_ name: String) {
        #expect(MeasurementUnit(rawValue: name) == nil)
    }

    @Test("every unit has a short label of its own for people")
    func symbols() {
        let symbols = MeasurementUnit.allCases.map(\.symbol)
        #expect(symbols.allSatisfy { !$0.isEmpty })
        #expect(Set(symbols).count == symbols.count)
    }
}
