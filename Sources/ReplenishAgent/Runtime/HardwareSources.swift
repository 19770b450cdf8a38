import ReplenishCore
import ReplenishHardware

/// Opens the hardware behind a slot's `source:`: the GPIO lines (libgpiod) or the I2C device
/// (i2c-dev), handed to the driver. Any failure names the chip, line or bus and what to do.
enum HardwareSources {
    /// How long an edge-watching thread sleeps on an idle line: stopping wakes it at once, so
    /// this only paces idle work (an idle daemon stays asleep).
    static let idleWait: Double = 60

    static func open(_ slot: SlotConfig) throws -> any SensorSource {
        let id = slot.definition.id
        let every = slot.source.sampleIntervalSeconds
        switch slot.source.hardware {
        case nil:
            throw AgentError(.invalidArguments, "slot \(id): driver \(slot.source.driver.rawValue) has no hardware settings")
        case let .pulseCounter(line, settings):
            let edges: GPIOEdgeSelection = switch settings.edge {
            case .rising: .rising
            case .falling: .falling
            case .both: .both
            }
            // The counted edge alone from the kernel (libgpiod 1.6's v1 events mislabel quick
            // pulses when both are asked for); the counter must know, or it counts the first
            // pulse only (found on the emulated board, Hardware/emulator).
            return PulseCounterSource(slot: id, sampleIntervalSeconds: every, settings: settings,
                                      line: try GPIOEventLine(spec(line), edges: edges),
                                      countedEdgeOnly: settings.edge != .both,
                                      stopLatencySeconds: idleWait)
        case let .switchLadder(chipConfig, settings):
            let chip = try GPIOChip(LineSpec.Chip(parsing: chipConfig.chip))
            let lines = try settings.switches.map { floatSwitch in
                try GPIOInputLine(spec(GPIOLineConfig(chip: chipConfig, line: floatSwitch.line)), chip: chip)
            }
            return SwitchLadderSource(slot: id, sampleIntervalSeconds: every, settings: settings,
                                      capacity: slot.definition.capacity, lines: lines)
        case let .presence(line, settings):
            let events = try GPIOEventLine(spec(line), edges: .both)
            return PresenceSource(slot: id, sampleIntervalSeconds: every, settings: settings, events: events, level: events,
                                  stopLatencySeconds: idleWait)
        case let .hx711(chipConfig, settings):
            let chip = try GPIOChip(LineSpec.Chip(parsing: chipConfig.chip))
            let clock = try GPIOOutputLine(spec(GPIOLineConfig(chip: chipConfig, line: settings.clockLine)),
                                           initialValue: false, chip: chip)
            let data = try GPIOInputLine(spec(GPIOLineConfig(chip: chipConfig, line: settings.dataLine)), chip: chip)
            return HX711Source(slot: id, sampleIntervalSeconds: every, settings: settings, clockLine: clock, dataLine: data)
        case let .ads1115(settings):
            return ADS1115Source(slot: id, sampleIntervalSeconds: every, settings: settings,
                                 device: try I2CDevice(bus: settings.bus, address: UInt16(settings.address)))
        case let .max17048(settings):
            return MAX17048Source(slot: id, sampleIntervalSeconds: every, settings: settings,
                                  device: try I2CDevice(bus: settings.bus, address: UInt16(settings.address)))
        case let .i2cRegister(settings):
            return I2CRegisterSource(slot: id, sampleIntervalSeconds: every, settings: settings,
                                     device: try I2CDevice(bus: settings.bus, address: UInt16(settings.address)))
        }
    }

    static func spec(_ line: GPIOLineConfig) -> LineSpec {
        let bias: LineSpec.Bias = switch line.chip.bias {
        case .asIs: .asIs
        case .disable: .disable
        case .pullUp: .pullUp
        case .pullDown: .pullDown
        }
        return LineSpec(chip: LineSpec.Chip(parsing: line.chip.chip), line: LineSpec.Line(parsing: line.line),
                        activeLow: line.chip.activeLow, bias: bias)
    }
}

extension SlotPipeline {
    /// A slot's pipeline as its config builds it: the daemon and `probe` keep one per slot and
    /// hand it each read. `definition` gives the bounds every observation must keep; nil checks none.
    public init(source: SourceConfig, definition: SlotDefinition? = nil) {
        // The decoder built this chain already, so it cannot fail here.
        let chain = (try? FilterChain(source.filters)) ?? (try! FilterChain([]))
        self.init(chain: chain, tracker: SensorHealthTracker(faultAfter: source.health.faultAfter,
                                                             recoverAfter: source.health.recoverAfter),
                  bounds: definition)
    }
}
