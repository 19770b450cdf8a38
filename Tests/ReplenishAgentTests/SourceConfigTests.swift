import Foundation
@testable import ReplenishAgent
import ReplenishHardware
import Testing

/// A config with one slot whose `source:` is `source` (indented lines under `source:`).
private func slotConfig(_ source: String, sensor: String = "level", measurement: String = "{type: Volume, unit: MILLILITER}")
    -> String {
    """
    device:
      id: cm-1
    mqtt:
      url: mqtt://127.0.0.1
    storage:
      path: /tmp/x.db
    report:
      daily_at: "03:00"
    slots:
      - id: tank
        sensor: \(sensor)
        measurement: \(measurement)
        capacity: 1800
        source:
    \(source.split(separator: "\n").map { "      " + $0 }.joined(separator: "\n"))
    """
}

@Suite("hardware sources in the config")
struct SourceConfigTests {
    static let chip = GPIOChipConfig(chip: "gpiochip0")

    @Test("each driver decodes with its settings", arguments: [
        ("driver: gpio-pulse-counter\nchip: gpiochip0\nline: GPIO17\nedge: falling\ndebounce: 2ms\nquantity_per_pulse: 2.5\nbias: pull-up",
         "usage",
         HardwareSettings.pulseCounter(GPIOLineConfig(chip: GPIOChipConfig(chip: "gpiochip0", bias: .pullUp), line: "GPIO17"),
                                       PulseCounterSettings(edge: .falling, debounceSeconds: 0.002, quantityPerPulse: 2.5))),
        ("driver: gpio-switch-ladder\nchip: gpiochip0\nactive_low: true\nswitches:\n  - {line: GPIO5, fraction: 25%}\n  - {line: GPIO6, fraction: 0.75}",
         "level",
         .switchLadder(GPIOChipConfig(chip: "gpiochip0", activeLow: true),
                       SwitchLadderSettings(switches: [.init(line: "GPIO5", fraction: 0.25), .init(line: "GPIO6", fraction: 0.75)]))),
        ("driver: gpio-presence\nchip: /dev/gpiochip1\nline: 23\nquantity_on_insert: 900",
         "level",
         .presence(GPIOLineConfig(chip: GPIOChipConfig(chip: "/dev/gpiochip1"), line: "23"),
                   PresenceSettings(quantityOnInsert: 900, debounceSeconds: 0.2))),
        ("driver: hx711\nchip: gpiochip0\nclock: GPIO5\ndata: GPIO6\ngain: 64",
         "level",
         .hx711(chip, HX711Settings(clockLine: "GPIO5", dataLine: "GPIO6", gain: .channelA64))),
        // 5 ms is within what the driver takes (more than 0); the decoder once refused under 10 ms.
        ("driver: hx711\nchip: gpiochip0\nclock: GPIO5\ndata: GPIO6\nready_timeout: 5ms\nretries: 10",
         "level",
         .hx711(chip, HX711Settings(clockLine: "GPIO5", dataLine: "GPIO6", readyTimeoutSeconds: 0.005, retries: 10))),
        ("driver: ads1115\nbus: 1\naddress: 0x49\nchannel: 2\nfull_scale: 4.096\ndata_rate: 250",
         "level",
         .ads1115(ADS1115Settings(bus: 1, address: 0x49, channel: 2, fullScale: .v4_096, dataRate: .sps250))),
        ("driver: max17048\nbus: 1", "level", .max17048(MAX17048Settings(bus: 1))),
        ("driver: i2c-register\nbus: 0\naddress: 0x50\nregister: 0x10\nwidth: 16\nbyte_order: little\nsigned: true\nscale: 0.1\nunit: mL",
         "level",
         .i2cRegister(I2CRegisterSettings(bus: 0, address: 0x50, register: 0x10, width: .bits16, byteOrder: .little,
                                          signed: true, scale: 0.1, unit: "mL"))),
    ] as [(String, String, HardwareSettings)])
    func decodes(source: String, sensor: String, expected: HardwareSettings) throws {
        let config = try ConfigLoader.parse(slotConfig(source, sensor: sensor), fileName: "cfg.yaml")
        #expect(config.slots[0].source.hardware == expected)
    }

    @Test("driver mistakes name the key and what was expected", arguments: [
        ("driver: gpio-pulse-counter\nchip: gpiochip0\nline: GPIO17",
         "cfg.yaml:15:7: slots[0].source: missing required key 'quantity_per_pulse'"),
        ("driver: gpio-pulse-counter\nchip: gpiochip0\nline: GPIO17\nquantity_per_pulse: 1\nedge: up",
         "cfg.yaml:19:13: slots[0].source.edge: expected one of: rising, falling, both, got 'up'"),
        ("driver: ads1115\nbus: 1\nchannel: 4",
         "cfg.yaml:17:16: slots[0].source.channel: expected 0, 1, 2 or 3, got '4'"),
        ("driver: ads1115\nbus: 1\nchannel: two",
         "cfg.yaml:17:16: slots[0].source.channel: expected a whole number, got 'two'"),
        ("driver: ads1115\nbus: 1\nchannel: 0\naddress: 0x50",
         "cfg.yaml:18:16: slots[0].source.address: expected 0x48, 0x49, 0x4a or 0x4b, got '0x50'"),
        ("driver: ads1115\nbus: 1\nchannel: 0\nfull_scale: 5",
         "cfg.yaml:18:19: slots[0].source.full_scale: expected a full scale in volts, one of: 6.144, 4.096, 2.048, 1.024, 0.512, 0.256, got '5'"),
        ("driver: hx711\nchip: gpiochip0\nclock: GPIO5\ndata: GPIO6\ngain: 100",
         "cfg.yaml:19:13: slots[0].source.gain: expected 128, 64 (channel A) or 32 (channel B), got '100'"),
        // A driver's ranges are its settings type's alone (the decoder once said 10 s for ready_timeout
        // and 10 s for a pulse counter's debounce while the drivers refused over 5 s and over 1 s).
        ("driver: hx711\nchip: gpiochip0\nclock: GPIO5\ndata: GPIO6\nready_timeout: 8s",
         "cfg.yaml:19:22: slots[0].source.ready_timeout: expected more than 0 and at most 5 seconds, got '8s'"),
        ("driver: gpio-pulse-counter\nchip: gpiochip0\nline: GPIO17\nquantity_per_pulse: 1\ndebounce: 2s",
         "cfg.yaml:19:17: slots[0].source.debounce: expected 0 to 1 seconds, got '2s'"),
        ("driver: max17048\nbus: 1\nretries: 11",
         "cfg.yaml:17:16: slots[0].source.retries: expected 0 to 10, got '11'"),
        ("driver: i2c-register\nbus: 1\naddress: 0x50\nregister: 0x1ff",
         "cfg.yaml:18:17: slots[0].source.register: expected a number from 0 to 0xff, got 0x1ff"),
        ("driver: gpio-switch-ladder\nchip: gpiochip0\nswitches:\n  - {line: GPIO5, fraction: 150%}",
         "cfg.yaml:18:35: slots[0].source.switches[0].fraction: expected a fill fraction above 0 and at most 1 (or a percentage), got '150%'"),
        // A filter the chain refuses is named by its own position, first or not.
        ("driver: ads1115\nbus: 1\nchannel: 0\nfilters:\n  - {clamp: [9, 1]}\n  - {median: 3}",
         "cfg.yaml:19:11: slots[0].source.filters[0]: clamp min 9.0 is above max 1.0"),
        ("driver: ads1115\nbus: 1\nchannel: 0\nfilters:\n  - {median: 3}\n  - {clamp: [9, 1]}",
         "cfg.yaml:20:11: slots[0].source.filters[1]: clamp min 9.0 is above max 1.0"),
        ("driver: max17048\nbus: 1\nline: GPIO5",
         "cfg.yaml:17:7: slots[0].source.line: unknown key 'line' (expected one of: driver, sample_every, health, filters, bus, address, retries)"),
    ])
    func mistakes(source: String, expected: String) {
        #expect { try ConfigLoader.parse(slotConfig(source), fileName: "cfg.yaml") } throws: {
            ($0 as? AgentError)?.code == .configRejected
        }
        do {
            _ = try ConfigLoader.parse(slotConfig(source), fileName: "cfg.yaml")
        } catch {
            #expect(error.diagnostics.map(\.description) == [expected])
        }
    }

    @Test("a hardware source without --simulate says the Linux layer is missing only when it is")
    func simulatedStillRuns() throws {
        let config = try ConfigLoader.parse(slotConfig("driver: max17048\nbus: 1"), fileName: "cfg.yaml")
        let sources = try Daemon.sources(for: config, simulate: true, start: Date())
        #expect(sources.first is SimulatedSource)
    }
}
