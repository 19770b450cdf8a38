import ReplenishHardware

// A slot's `source:` section: the driver and its own keys. Every driver takes `driver` and
// `sample_every`; GPIO drivers take `chip`, `active_low` and `bias`; I2C drivers `bus`,
// `address` and `retries`. The drivers' own checks (`problems`) are reported at their keys.

extension ConfigReader {
    private static let common = ["driver", "sample_every", "health"]
    /// Drivers that deliver a raw number for the filter chain.
    private static let filtered = ["filters"]
    private static let gpio = ["chip", "active_low", "bias"]
    private static let i2c = ["bus", "address", "retries"]

    private static func keys(for driver: SourceConfig.Driver) -> [String] {
        switch driver {
        case .simulated: common
        case .gpioPulseCounter: common + gpio + ["line", "edge", "debounce", "quantity_per_pulse"]
        case .gpioSwitchLadder: common + gpio + ["switches"]
        case .gpioPresence: common + gpio + ["line", "debounce", "quantity_on_insert"]
        case .hx711: common + filtered + gpio + ["clock", "data", "gain", "ready_timeout"] + ["retries"]
        case .ads1115: common + filtered + i2c + ["channel", "full_scale", "data_rate"]
        case .max17048: common + filtered + i2c
        case .i2cRegister: common + filtered + i2c + ["register", "width", "byte_order", "signed", "transfer",
                                                      "scale", "offset", "unit"]
        }
    }

    mutating func source(_ node: Node, at path: ConfigKeyPath, capacity: Double?) -> SourceConfig? {
        // The driver decides which keys are allowed, so read it first.
        guard case .mapping = node else {
            report("expected a mapping, got \(node.summary)", at: node, path)
            return nil
        }
        let driverNode = node["driver"]
        var driver: SourceConfig.Driver?
        if let driverNode, let name = string(driverNode, at: path.appending("driver")) {
            driver = SourceConfig.Driver(rawValue: name)
            if driver == nil {
                let known = SourceConfig.Driver.allCases.map(\.rawValue).joined(separator: ", ")
                report("unknown driver '\(name)' (known drivers: \(known))", at: driverNode, path.appending("driver"))
            }
        }
        let allowed = driver.map(Self.keys(for:)) ?? Self.common
        guard let fields = fields(of: node, at: path, allowed: driver == nil ? allowed + Self.everyKey : allowed)
        else { return nil }
        if driverNode == nil { _ = required("driver", in: fields) }

        var interval: Double? = 60
        if let value = fields.optional("sample_every") {
            interval = duration(value, at: path.appending("sample_every"), in: ConfigRanges.sampleEvery)
        }
        let health = fields.optional("health").map { healthSettings($0, at: path.appending("health")) }
        let filters = fields.optional("filters").map { filterList($0, at: path.appending("filters")) }
        guard let driver, let interval, health != .some(nil), filters != .some(nil) else { return nil }
        var source = SourceConfig(driver: driver, sampleIntervalSeconds: interval,
                                  filters: filters.flatMap { $0 } ?? [], health: health.flatMap { $0 } ?? HealthSettings())
        guard driver != .simulated else { return source }
        guard let hardware = hardware(driver, fields, at: path, capacity: capacity) else { return nil }
        source.hardware = hardware
        return source
    }

    private mutating func healthSettings(_ node: Node, at path: ConfigKeyPath) -> HealthSettings? {
        guard let fields = fields(of: node, at: path, allowed: ["fault_after", "recover_after"]) else { return nil }
        let fault = fields.optional("fault_after").map { integer($0, at: path.appending("fault_after"), in: 1...100) }
        let recover = fields.optional("recover_after").map { integer($0, at: path.appending("recover_after"), in: 1...100) }
        guard fault != .some(nil), recover != .some(nil) else { return nil }
        return HealthSettings(faultAfter: fault.flatMap { $0 } ?? 3, recoverAfter: recover.flatMap { $0 } ?? 3)
    }

    /// `filters:` — a list of one-key mappings, checked together by building the chain.
    private mutating func filterList(_ node: Node, at path: ConfigKeyPath) -> [SensorFilter]? {
        guard let items = sequence(node, at: path) else { return nil }
        var filters: [SensorFilter] = []
        for (index, item) in items.enumerated() {
            let itemPath = path.appending(index: index)
            guard case let .mapping(mapping) = item, mapping.count == 1, let (keyNode, value) = mapping.first,
                  let name = keyNode.scalar?.string else {
                report("expected one filter such as {median: 5} (calibrate, median, clamp, delta, plausibility), "
                       + "got \(item.summary)", at: item, itemPath)
                continue
            }
            if let filter = filter(name, value, key: keyNode, at: itemPath.appending(name)) { filters.append(filter) }
        }
        guard filters.count == items.count else { return nil }
        do {
            _ = try FilterChain(filters)
        } catch {
            // `filterIndex` is the refused filter's 0-based position in the list.
            if let index = error.filterIndex, items.indices.contains(index) {
                report(error.message, at: items[index], path.appending(index: index))
            } else {
                report(error.message, at: node, path)
            }
            return nil
        }
        return filters
    }

    private mutating func filter(_ name: String, _ value: Node, key: Node, at path: ConfigKeyPath) -> SensorFilter? {
        switch name {
        case "calibrate":
            guard let pairs = sequence(value, at: path) else { return nil }
            var points: [CalibrationPoint] = []
            for (index, pair) in pairs.enumerated() {
                guard case let .sequence(items) = pair, items.count == 2,
                      let raw = items[0].plainText.flatMap(DecimalParser.signedValue),
                      let calibrated = items[1].plainText.flatMap(DecimalParser.signedValue) else {
                    report("expected a pair [raw, value], got \(pair.summary)", at: pair, path.appending(index: index))
                    return nil
                }
                points.append(CalibrationPoint(raw: raw, value: calibrated))
            }
            return .calibrate(points: points)
        case "median":
            return integer(value, at: path, in: 1...99).map { .median(window: $0) }
        case "clamp":
            guard case let .sequence(bounds) = value, bounds.count == 2 else {
                report("expected [min, max] (null for an open side), got \(value.summary)", at: value, path)
                return nil
            }
            let low = bounds[0].isNull ? .some(nil) : number(bounds[0], at: path.appending(index: 0)).map { Optional($0) }
            let high = bounds[1].isNull ? .some(nil) : number(bounds[1], at: path.appending(index: 1)).map { Optional($0) }
            guard let low, let high else { return nil }
            return .clamp(min: low, max: high)
        case "delta":
            guard let fields = fields(of: value, at: path, allowed: ["modulus"]) else { return nil }
            let modulus = fields.optional("modulus").map { number($0, at: path.appending("modulus")) }
            guard modulus != .some(nil) else { return nil }
            return .delta(modulus: modulus.flatMap { $0 })
        case "plausibility":
            let keys = ["min", "max", "max_rise_per_second", "max_fall_per_second", "stuck_after", "stuck_tolerance"]
            guard let fields = fields(of: value, at: path, allowed: keys) else { return nil }
            var values: [String: Double] = [:]
            var failed = false
            for key in keys where key != "stuck_after" {
                if let node = fields.optional(key) {
                    if let number = number(node, at: path.appending(key)) { values[key] = number } else { failed = true }
                }
            }
            let stuck = fields.optional("stuck_after").map { integer($0, at: path.appending("stuck_after"), in: 2...10_000) }
            guard !failed, stuck != .some(nil) else { return nil }
            return .plausibility(PlausibilityLimits(
                minValue: values["min"], maxValue: values["max"], maxRisePerSecond: values["max_rise_per_second"],
                maxFallPerSecond: values["max_fall_per_second"], stuckAfter: stuck.flatMap { $0 },
                stuckTolerance: values["stuck_tolerance"] ?? 0))
        default:
            report(Self.unknownKeyMessage(name, allowed: ["calibrate", "median", "clamp", "delta", "plausibility"]),
                   at: key, path)
            return nil
        }
    }

    /// Every key some driver takes: with an unknown driver, only truly unknown keys are reported.
    private static var everyKey: [String] {
        Array(Set(SourceConfig.Driver.allCases.flatMap(keys(for:)))).sorted()
    }

    private mutating func hardware(_ driver: SourceConfig.Driver, _ fields: ConfigFields, at path: ConfigKeyPath,
                                   capacity: Double?) -> HardwareSettings? {
        switch driver {
        case .simulated:
            return nil
        case .gpioPulseCounter:
            guard let line = gpioLine("line", fields, at: path) else { return nil }
            var failed = false
            var settings = PulseCounterSettings(quantityPerPulse: 1)
            decode("edge", in: fields, into: &settings.edge, failed: &failed) { $0.choice($1, at: $2, of: PulseCounterSettings.Edge.allCases) }
            decode("debounce", in: fields, into: &settings.debounceSeconds, failed: &failed) { $0.duration($1, at: $2) }
            decodeRequired("quantity_per_pulse", in: fields, into: &settings.quantityPerPulse, failed: &failed) { $0.number($1, at: $2) }
            return !failed && checked(settings.problems, fields, at: path) ? .pulseCounter(line, settings) : nil

        case .gpioSwitchLadder:
            guard let chip = gpioChip(fields, at: path),
                  let list = required("switches", in: fields),
                  let items = sequence(list, at: path.appending("switches")) else { return nil }
            var switches: [SwitchLadderSettings.FloatSwitch] = []
            for (index, item) in items.enumerated() {
                let itemPath = path.appending("switches").appending(index: index)
                guard let itemFields = self.fields(of: item, at: itemPath, allowed: ["line", "fraction"]),
                      let lineNode = required("line", in: itemFields), let line = string(lineNode, at: itemPath.appending("line")),
                      let fractionNode = required("fraction", in: itemFields),
                      let fraction = fraction(fractionNode, at: itemPath.appending("fraction")) else { continue }
                switches.append(.init(line: line, fraction: fraction))
            }
            guard switches.count == items.count else { return nil }
            let settings = SwitchLadderSettings(switches: switches)
            return checked(settings.problems, fields, at: path) ? .switchLadder(chip, settings) : nil

        case .gpioPresence:
            guard let line = gpioLine("line", fields, at: path) else { return nil }
            var failed = false
            var settings = PresenceSettings()
            decode("debounce", in: fields, into: &settings.debounceSeconds, failed: &failed) { $0.duration($1, at: $2) }
            decode("quantity_on_insert", in: fields, into: &settings.quantityOnInsert, failed: &failed) {
                $0.quantityOnInsert($1, at: $2, capacity: capacity)
            }
            return !failed && checked(settings.problems, fields, at: path) ? .presence(line, settings) : nil

        case .hx711:
            guard let chip = gpioChip(fields, at: path),
                  let clockNode = required("clock", in: fields), let clockLine = string(clockNode, at: path.appending("clock")),
                  let dataNode = required("data", in: fields), let dataLine = string(dataNode, at: path.appending("data"))
            else { return nil }
            var failed = false
            var settings = HX711Settings(clockLine: clockLine, dataLine: dataLine)
            decode("gain", in: fields, into: &settings.gain, failed: &failed) { $0.hx711Gain($1, at: $2) }
            decode("ready_timeout", in: fields, into: &settings.readyTimeoutSeconds, failed: &failed) { $0.duration($1, at: $2) }
            decode("retries", in: fields, into: &settings.retries, failed: &failed) { $0.integer($1, at: $2) }
            return !failed && checked(settings.problems, fields, at: path) ? .hx711(chip, settings) : nil

        case .ads1115:
            guard let bus = i2cBus(fields, at: path) else { return nil }
            var failed = false
            var settings = ADS1115Settings(bus: bus, channel: 0)
            decode("address", in: fields, into: &settings.address, failed: &failed) { $0.byte($1, at: $2) }
            decodeRequired("channel", in: fields, into: &settings.channel, failed: &failed) { $0.integer($1, at: $2) }
            decode("full_scale", in: fields, into: &settings.fullScale, failed: &failed) { $0.fullScale($1, at: $2) }
            decode("data_rate", in: fields, into: &settings.dataRate, failed: &failed) { $0.dataRate($1, at: $2) }
            decode("retries", in: fields, into: &settings.retries, failed: &failed) { $0.integer($1, at: $2) }
            return !failed && checked(settings.problems, fields, at: path) ? .ads1115(settings) : nil

        case .max17048:
            guard let bus = i2cBus(fields, at: path) else { return nil }
            var failed = false
            var settings = MAX17048Settings(bus: bus)
            decode("address", in: fields, into: &settings.address, failed: &failed) { $0.byte($1, at: $2) }
            decode("retries", in: fields, into: &settings.retries, failed: &failed) { $0.integer($1, at: $2) }
            return !failed && checked(settings.problems, fields, at: path) ? .max17048(settings) : nil

        case .i2cRegister:
            guard let bus = i2cBus(fields, at: path),
                  let addressNode = required("address", in: fields), let address = byte(addressNode, at: path.appending("address")),
                  let registerNode = required("register", in: fields), let register = byte(registerNode, at: path.appending("register"))
            else { return nil }
            var failed = false
            var settings = I2CRegisterSettings(bus: bus, address: address, register: register)
            decode("width", in: fields, into: &settings.width, failed: &failed) { $0.registerWidth($1, at: $2) }
            decode("byte_order", in: fields, into: &settings.byteOrder, failed: &failed) { $0.choice($1, at: $2, of: I2CRegisterSettings.ByteOrder.allCases) }
            decode("signed", in: fields, into: &settings.signed, failed: &failed) { $0.bool($1, at: $2) }
            decode("transfer", in: fields, into: &settings.transfer, failed: &failed) { $0.choice($1, at: $2, of: I2CRegisterSettings.Transfer.allCases) }
            decode("scale", in: fields, into: &settings.scale, failed: &failed) { $0.number($1, at: $2) }
            decode("offset", in: fields, into: &settings.offset, failed: &failed) { $0.number($1, at: $2) }
            decode("unit", in: fields, into: &settings.unit, failed: &failed) { $0.string($1, at: $2) }
            decode("retries", in: fields, into: &settings.retries, failed: &failed) { $0.integer($1, at: $2) }
            return !failed && checked(settings.problems, fields, at: path) ? .i2cRegister(settings) : nil
        }
    }

    // Values of one driver key each, reported where they stand when they do not fit.

    private mutating func quantityOnInsert(_ node: Node, at path: ConfigKeyPath, capacity: Double?) -> Double? {
        guard let value = number(node, at: path) else { return nil }
        guard value > 0, capacity.map({ value <= $0 }) ?? true else {
            report("expected a quantity above 0 and at most the capacity, got \(node.plainText ?? "")", at: node, path)
            return nil
        }
        return value
    }

    private mutating func hx711Gain(_ node: Node, at path: ConfigKeyPath) -> HX711Settings.Gain? {
        member(integer(node, at: path, in: 32...128), node, at: path, expected: "expected 128, 64 (channel A) or 32 (channel B)")
    }

    private mutating func fullScale(_ node: Node, at path: ConfigKeyPath) -> ADS1115Settings.FullScale? {
        let known = ADS1115Settings.FullScale.allCases.map { Self.number($0.rawValue) }.joined(separator: ", ")
        return member(number(node, at: path), node, at: path, expected: "expected a full scale in volts, one of: \(known)")
    }

    private mutating func dataRate(_ node: Node, at path: ConfigKeyPath) -> ADS1115Settings.DataRate? {
        let known = ADS1115Settings.DataRate.allCases.map { String($0.rawValue) }.joined(separator: ", ")
        return member(integer(node, at: path, in: 8...860), node, at: path, expected: "expected samples per second, one of: \(known)")
    }

    private mutating func registerWidth(_ node: Node, at path: ConfigKeyPath) -> I2CRegisterSettings.Width? {
        member(integer(node, at: path, in: 8...32), node, at: path, expected: "expected 8, 16 or 32 bits")
    }

    /// The case of `E` whose raw value `raw` is (read from `node`); else `expected` is reported.
    private mutating func member<E: RawRepresentable>(_ raw: E.RawValue?, _ node: Node, at path: ConfigKeyPath,
                                                      expected: String) -> E? {
        guard let raw, let value = E(rawValue: raw) else {
            report("\(expected), got \(node.summary)", at: node, path)
            return nil
        }
        return value
    }

    private mutating func gpioChip(_ fields: ConfigFields, at path: ConfigKeyPath) -> GPIOChipConfig? {
        let chip = required("chip", in: fields).flatMap { string($0, at: path.appending("chip")) }
        let activeLow = fields.optional("active_low").map { bool($0, at: path.appending("active_low")) }
        let bias = fields.optional("bias").map { choice($0, at: path.appending("bias"), of: GPIOChipConfig.Bias.allCases) }
        guard let chip, activeLow != .some(nil), bias != .some(nil) else { return nil }
        if chip.isEmpty {
            report("expected a chip label, name or /dev path, got ''", at: fields.optional("chip")!, path.appending("chip"))
            return nil
        }
        return GPIOChipConfig(chip: chip, activeLow: activeLow.flatMap { $0 } ?? false, bias: bias.flatMap { $0 } ?? .asIs)
    }

    private mutating func gpioLine(_ key: String, _ fields: ConfigFields, at path: ConfigKeyPath) -> GPIOLineConfig? {
        let chip = gpioChip(fields, at: path)
        let line = required(key, in: fields).flatMap { string($0, at: path.appending(key)) }
        guard let chip, let line else { return nil }
        return GPIOLineConfig(chip: chip, line: line)
    }

    private mutating func i2cBus(_ fields: ConfigFields, at path: ConfigKeyPath) -> Int? {
        required("bus", in: fields).flatMap { integer($0, at: path.appending("bus"), in: 0...255) }
    }

    /// A byte: decimal or `0x` hexadecimal (I2C addresses and registers are written in hex).
    private mutating func byte(_ node: Node, at path: ConfigKeyPath) -> UInt8? {
        guard let text = node.plainText else {
            report("expected a number from 0 to 0xff, got \(node.summary)", at: node, path)
            return nil
        }
        let lower = text.lowercased()
        let value = lower.hasPrefix("0x") ? UInt8(lower.dropFirst(2), radix: 16) : UInt8(lower)
        guard let value else {
            report("expected a number from 0 to 0xff, got \(text)", at: node, path)
            return nil
        }
        return value
    }

    /// A fill fraction: 0...1 or a percentage.
    private mutating func fraction(_ node: Node, at path: ConfigKeyPath) -> Double? {
        let text = node.scalar?.string ?? ""
        let value = PercentageParser.percent(text).map { $0 / 100 } ?? node.plainText.flatMap(DecimalParser.signedValue)
        guard let value, value > 0, value <= 1 else {
            report("expected a fill fraction above 0 and at most 1 (or a percentage), got \(node.summary)", at: node, path)
            return nil
        }
        return value
    }

    /// Reports a driver's own problems ("key: message") at the key they name, with the value written
    /// there; true when there were none. The driver's settings type holds its defaults and its ranges
    /// (the decoder above only reads each key as a duration, a number or a name).
    private mutating func checked(_ problems: [SettingsProblem], _ fields: ConfigFields, at path: ConfigKeyPath) -> Bool {
        for problem in problems {
            if let node = fields.optional(problem.key) {
                let written = node.scalar == nil ? "" : ", got \(node.summary)"
                report(problem.message + written, at: node, path.appending(problem.key))
            } else {
                report(problem.description, at: fields.node, path)
            }
        }
        return problems.isEmpty
    }
}
