import ReplenishCore
import ReplenishHardware

// The `slots` list: each slot's definition, source and simulation.

extension ConfigReader {
    static let slotKeys = [
        "id", "sensor", "measurement", "capacity", "refill_hysteresis", "low_threshold", "forecast_days",
        "alexa_instance", "alexa_level_step", "alexa_friendly_name", "drs_slot_id", "dash_replenishment_id", "source", "simulation",
        "replenishment",
    ]

    mutating func slots(_ node: Node, at path: ConfigKeyPath) -> [SlotConfig]? {
        guard let items = sequence(node, at: path) else { return nil }
        guard !items.isEmpty else {
            report("expected at least one slot", at: node, path)
            return nil
        }
        // Slot ids, and DRS slot ids (a DRS notification names one slot), are unique.
        var firstUse: [String: [String: (index: Int, node: Node)]] = ["id": [:], "drs_slot_id": [:]]
        var slots: [SlotConfig] = []
        var firstInstance: [String: Int] = [:]
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard let fields = fields(of: item, at: itemPath, allowed: Self.slotKeys) else { continue }
            for (key, what) in [("id", "slot id"), ("drs_slot_id", "drs_slot_id")] {
                guard let node = fields.optional(key), case let .scalar(scalar) = node else { continue }
                if let first = firstUse[key]?[scalar.string] {
                    report("duplicate \(what) '\(scalar.string)' (first used by \(path.appending(index: first.index)) "
                           + "at line \(first.node.mark.line))", at: node, itemPath.appending(key))
                } else {
                    firstUse[key]?[scalar.string] = (index, node)
                }
            }
            if let slot = slot(fields) {
                // Alexa tells a device's sensors apart by instance alone, the derived ones included.
                // (A duplicate slot id is reported as such, not again as its instance.)
                let instance = slot.definition.alexaInstance
                let duplicateID = firstUse["id"]?[slot.definition.id]?.index != index
                if let first = firstInstance[instance], !duplicateID {
                    report("duplicate Alexa instance '\(instance)' (also \(path.appending(index: first))'s; "
                           + "give one of them another alexa_instance)",
                           at: fields.optional("alexa_instance") ?? item, itemPath.appending("alexa_instance"))
                    continue
                }
                firstInstance[instance] = firstInstance[instance] ?? index
                slots.append(slot)
            }
        }
        return slots.count == items.count && firstUse["id"]?.count == items.count ? slots : nil
    }

    private mutating func slot(_ fields: ConfigFields) -> SlotConfig? {
        let path = fields.path
        var failed = false
        let id = required("id", in: fields).flatMap { slotID($0, at: path.appending("id")) }
        let sensor = required("sensor", in: fields).flatMap {
            choice($0, at: path.appending("sensor"), of: SensorKind.allCases)
        }
        let measurement = required("measurement", in: fields).flatMap {
            self.measurement($0, at: path.appending("measurement"), sensor: sensor)
        }
        let capacity = required("capacity", in: fields).flatMap {
            self.capacity($0, at: path.appending("capacity"), measurement: measurement)
        }

        var hysteresis: Double?
        if let value = fields.optional("refill_hysteresis") {
            hysteresis = quantity(value, at: path.appending("refill_hysteresis"), capacity: capacity,
                                  expected: { "a quantity from 0 up to but not including the capacity (\($0))" }) {
                $0 >= 0 && $0 < $1
            }
            failed = failed || hysteresis == nil
        }
        var lowThreshold: Double?
        if let value = fields.optional("low_threshold") {
            lowThreshold = quantity(value, at: path.appending("low_threshold"), capacity: capacity,
                                    expected: { "a quantity from 0 to the capacity (\($0))" }) { $0 >= 0 && $0 <= $1 }
            failed = failed || lowThreshold == nil
        }
        var forecastDays = 14
        if let value = fields.optional("forecast_days") {
            let days = integer(value, at: path.appending("forecast_days"), in: 1...90)
            forecastDays = days ?? 0
            failed = failed || days == nil
        }
        var alexaInstance: String?
        if let value = fields.optional("alexa_instance") {
            alexaInstance = string(value, at: path.appending("alexa_instance"), checkedBy: Self.alexaInstanceProblem)
            failed = failed || alexaInstance == nil
        }
        var alexaLevelStep: Double?
        if let value = fields.optional("alexa_level_step") {
            alexaLevelStep = quantity(value, at: path.appending("alexa_level_step"), capacity: capacity,
                                      expected: { "a quantity from 0 to the capacity (\($0))" }) { $0 >= 0 && $0 <= $1 }
            failed = failed || alexaLevelStep == nil
        }
        let drsSlotId = optionalText("drs_slot_id", in: fields, what: "the slot's Dash Replenishment slot id",
                                     failed: &failed)
        let friendlyName = optionalText("alexa_friendly_name", in: fields, what: "the name Alexa shows for the slot",
                                        failed: &failed)
        let dashReplenishmentID = optionalText("dash_replenishment_id", in: fields,
                                               what: "the slot's Dash replenishment id", failed: &failed)
        let source = required("source", in: fields).flatMap {
            self.source($0, at: path.appending("source"), capacity: capacity)
        }
        var simulation: SimulationSettings?
        if let value = fields.optional("simulation") {
            simulation = self.simulation(value, at: path.appending("simulation"), capacity: capacity)
            failed = failed || simulation == nil
        }

        var replenishment = ReplenishmentSettings()
        if let value = fields.optional("replenishment") {
            let decoded = self.replenishment(value, at: path.appending("replenishment"))
            replenishment = decoded ?? replenishment
            failed = failed || decoded == nil
        }

        guard !failed, let id, let sensor, let measurement, let capacity, let source else { return nil }
        let definition = SlotDefinition(
            id: id, sensor: sensor, measurement: measurement, capacity: capacity,
            refillHysteresis: hysteresis, lowThreshold: lowThreshold,
            forecastWindowDays: forecastDays, alexaInstance: alexaInstance, drsSlotId: drsSlotId,
            alexaLevelStep: alexaLevelStep)
        var slot = SlotConfig(definition: definition, source: source, simulation: simulation)
        slot.replenishment = replenishment
        slot.alexaFriendlyName = friendlyName ?? slot.alexaFriendlyName
        slot.dashReplenishmentID = dashReplenishmentID
        return slot
    }

    /// Why `name` cannot be a slot's Alexa instance, or nil. Amazon's pages give instance names
    /// such as `InkSensor.Cyan` and `CoffeePod` but no character rule that we could find; this is
    /// ours, kept to what every example uses: 1 to 64 ASCII letters, digits and `.`, `_`, `-`.
    static func alexaInstanceProblem(_ name: String) -> String? {
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0))
        }
        guard allowed, (1...64).contains(name.unicodeScalars.count) else {
            return "expected an Alexa instance name of 1 to 64 letters, digits, '.', '_' or '-' such as 'WaterTank.Level', got '\(name)'"
        }
        return nil
    }

    /// Key `key`'s string of 1 to 128 bytes without control or invisible characters, `what` naming it in
    /// the diagnostic; nil when absent, and `failed` set when present but refused.
    private mutating func optionalText(_ key: String, in fields: ConfigFields, what: String,
                                       failed: inout Bool) -> String? {
        guard let node = fields.optional(key) else { return nil }
        let path = fields.path.appending(key)
        guard let text = string(node, at: path) else {
            failed = true
            return nil
        }
        guard !text.isEmpty, text.utf8.count <= 128, TopicRules.invisibleCharacterProblem(text, what: "") == nil else {
            report("expected \(what) (1 to 128 bytes of printable text), got \(node.summary)", at: node, path)
            failed = true
            return nil
        }
        return text
    }

    private mutating func slotID(_ node: Node, at path: ConfigKeyPath) -> String? {
        guard let id = string(node, at: path) else { return nil }
        let allowed = id.unicodeScalars.allSatisfy {
            $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-")
        }
        guard allowed, (1...64).contains(id.unicodeScalars.count) else {
            report("expected a slot id of 1 to 64 letters, digits, '_' or '-', got '\(id)'", at: node, path)
            return nil
        }
        return id
    }

    private mutating func measurement(_ node: Node, at path: ConfigKeyPath, sensor: SensorKind?) -> Measurement? {
        guard let fields = fields(of: node, at: path, allowed: ["type", "unit"]),
              let typeNode = required("type", in: fields),
              let type = choice(typeNode, at: path.appending("type"), of: MeasurementType.allCases)
        else { return nil }
        if type == .percentage, sensor == .usage {
            report("a usage sensor counts what was used and cannot measure Percentage "
                   + "(expected Count, Volume or Weight)", at: typeNode, path.appending("type"))
            return nil
        }
        let unitEntry = fields.entry("unit")
        if type.units.isEmpty {
            if let unitEntry {
                report("a \(type.rawValue) measurement takes no unit", at: unitEntry.key, path.appending("unit"))
                return nil
            }
            return Measurement(type: type)
        }
        guard let unitEntry else {
            let units = type.units.map(\.rawValue).joined(separator: ", ")
            report("missing required key 'unit' (a \(type.rawValue) measurement needs one of: \(units))",
                   at: node, path)
            return nil
        }
        // Only Alexa's names for the type: the cloud forwards the unit untouched.
        let unit = choice(unitEntry.value, at: path.appending("unit"), of: type.units,
                          described: "Alexa's \(type.rawValue) units") { name in
            MeasurementUnit(rawValue: name).map { "\($0.rawValue) is a \($0.type.rawValue) unit" }
        }
        return unit.map { Measurement(type: type, unit: $0) }
    }

    private mutating func capacity(_ node: Node, at path: ConfigKeyPath, measurement: Measurement?) -> Double? {
        guard let value = number(node, at: path) else { return nil }
        guard value > 0 else {
            report("expected a positive number, got \(node.plainText ?? "")", at: node, path)
            return nil
        }
        // Every quantity derived from it (thresholds, on-hand stock, readings) is bounded by it.
        guard value <= QuantityBounds.maximum else {
            report("expected a capacity of at most \(QuantityBounds.shown(QuantityBounds.maximum)), got \(node.plainText ?? "")",
                   at: node, path)
            return nil
        }
        if measurement?.type == .percentage, value != 100 {
            report("a Percentage slot has a capacity of 100, got \(node.plainText ?? "")", at: node, path)
            return nil
        }
        return value
    }

    /// A quantity in the slot's unit, or a percentage of its capacity. Without a valid capacity only
    /// the syntax is checked (the capacity's own diagnostic says what is wrong).
    private mutating func quantity(_ node: Node, at path: ConfigKeyPath, capacity: Double?,
                                   expected: (_ capacity: String) -> String,
                                   allowed: (Double, Double) -> Bool) -> Double? {
        let scalarText = node.scalar?.string ?? ""
        let percent = node.isNull ? nil : PercentageParser.percent(scalarText)
        let plain = node.plainText.flatMap(DecimalParser.signedValue)
        guard percent != nil || plain != nil else {
            report("expected a quantity or a percentage such as '5%', got \(node.summary)", at: node, path)
            return nil
        }
        guard let capacity else { return nil }
        let value = percent.map { $0 * capacity / 100 } ?? plain!
        guard allowed(value, capacity) else {
            report("expected \(expected(Self.number(capacity))), got \(scalarText)", at: node, path)
            return nil
        }
        return value
    }

    /// `replenishment:` — who decides to reorder and the Dash rules' numbers.
    private mutating func replenishment(_ node: Node, at path: ConfigKeyPath) -> ReplenishmentSettings? {
        guard let fields = fields(of: node, at: path, allowed: ReplenishmentSettings.yamlKeys) else { return nil }
        var settings = ReplenishmentSettings()
        var failed = false
        if let value = fields.optional("mode") {
            if let mode = choice(value, at: path.appending("mode"), of: ReplenishmentSettings.Mode.allCases) {
                settings.mode = mode
            } else { failed = true }
        }
        func days(_ key: String, _ apply: (inout ReplenishmentSettings, Int) -> Void) {
            guard let value = fields.optional(key) else { return }
            if let number = integer(value, at: path.appending(key), in: 0...365) { apply(&settings, number) } else { failed = true }
        }
        days("lead_time_days") { $0.leadTimeDays = $1 }
        days("safety_margin_days") { $0.safetyMarginDays = $1 }
        days("retry_after_cancel_days") { $0.retryAfterCancelDays = $1 }
        if let value = fields.optional("low_readings_to_request") {
            if let number = integer(value, at: path.appending("low_readings_to_request"), in: 1...100) {
                settings.lowReadingsToRequest = number
            } else { failed = true }
        }
        for key in ["low_supply_hysteresis", "full_tolerance"] {
            guard let value = fields.optional(key) else { continue }
            guard let fraction = number(value, at: path.appending(key)) else { failed = true; continue }
            guard (0...1).contains(fraction) else {
                report("expected a fraction of capacity from 0 to 1, got \(value.plainText ?? "")", at: value, path.appending(key))
                failed = true
                continue
            }
            if key == "full_tolerance" { settings.fullTolerance = fraction } else { settings.lowSupplyHysteresis = fraction }
        }
        return failed ? nil : settings
    }

    private mutating func simulation(_ node: Node, at path: ConfigKeyPath, capacity: Double?) -> SimulationSettings? {
        let allowed = ["daily_consumption", "uses_per_day", "noise", "refill", "initial", "seed"]
        guard let fields = fields(of: node, at: path, allowed: allowed) else { return nil }
        var failed = false
        var settings = SimulationSettings.defaults(capacity: capacity ?? 0)

        if let value = fields.optional("daily_consumption") {
            let daily = quantity(value, at: path.appending("daily_consumption"), capacity: capacity,
                                 expected: { _ in "a quantity above 0 per day" }) { value, _ in value > 0 }
            settings.dailyConsumption = daily ?? 0
            failed = failed || daily == nil
        }
        if let value = fields.optional("uses_per_day") {
            let uses = number(value, at: path.appending("uses_per_day"))
            if let uses, uses <= 0 {
                report("expected a positive number, got \(value.plainText ?? "")", at: value, path.appending("uses_per_day"))
                failed = true
            }
            settings.usesPerDay = uses ?? 0
            failed = failed || uses == nil
        }
        if let value = fields.optional("noise") {
            let noise = number(value, at: path.appending("noise"))
            if let noise, !(0...1).contains(noise) {
                report("expected a number from 0 to 1, got \(value.plainText ?? "")", at: value, path.appending("noise"))
                failed = true
            }
            settings.noise = noise ?? 0
            failed = failed || noise == nil
        }
        if let value = fields.optional("refill") {
            let plan = refillPlan(value, at: path.appending("refill"))
            settings.refill = plan ?? .never
            failed = failed || plan == nil
        }
        if let value = fields.optional("initial") {
            settings.initialQuantity = quantity(value, at: path.appending("initial"), capacity: capacity,
                                                expected: { "a quantity from 0 to the capacity (\($0))" }) { $0 >= 0 && $0 <= $1 }
            failed = failed || settings.initialQuantity == nil
        }
        if let value = fields.optional("seed") {
            settings.seed = value.plainText.flatMap { UInt64($0) }
            if settings.seed == nil {
                report("expected a whole number from 0 to \(UInt64.max), got \(value.summary)",
                       at: value, path.appending("seed"))
                failed = true
            }
        }
        return failed || capacity == nil ? nil : settings
    }

    /// `below 10%`, `every 7d` or `never`.
    private mutating func refillPlan(_ node: Node, at path: ConfigKeyPath) -> SimulationSettings.RefillPlan? {
        let text = node.scalar?.string ?? ""
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        switch (words.first, words.count) {
        case ("never", 1):
            return .never
        case ("below", 2):
            if let percent = PercentageParser.percent(String(words[1])), percent <= 100 {
                return .below(fraction: percent / 100)
            }
        case ("every", 2):
            if let seconds = DurationParser.seconds(String(words[1])) {
                if ConfigRanges.refillEvery.contains(seconds) { return .every(seconds: seconds) }
                report("expected 'every DURATION' with a duration \(Self.describe(ConfigRanges.refillEvery)), got \(node.summary)",
                       at: node, path)
                return nil
            }
        default:
            break
        }
        report("expected 'below N%', 'every DURATION' or 'never', got \(node.summary)", at: node, path)
        return nil
    }
}
