import Foundation
import Testing
import ReplenishCore
@testable import ReplenishHardware

@Suite("I2C drivers")
struct DriverI2CTests {
    // MARK: ADS1115

    static func ads(_ settings: ADS1115Settings, _ bus: FakeSMBus) -> (ADS1115Source, FakeDriverClock) {
        let clock = FakeDriverClock()
        return (ADS1115Source(slot: "beans", sampleIntervalSeconds: 10, settings: settings, device: bus,
                              clock: clock.clock), clock)
    }

    @Test("ADS1115 config word: OS, MUX AINx/GND, PGA, single-shot, data rate, comparator off", arguments: [
        (ADS1115Settings(bus: 1, channel: 0), UInt16(0xC583)),  // the datasheet's reset value 0x8583 with MUX = AIN0/GND
        (ADS1115Settings(bus: 1, channel: 1, fullScale: .v4_096, dataRate: .sps860), UInt16(0xD3E3)),
        (ADS1115Settings(bus: 1, channel: 2, fullScale: .v6_144, dataRate: .sps8), UInt16(0xE103)),
        (ADS1115Settings(bus: 1, channel: 3, fullScale: .v0_256, dataRate: .sps250), UInt16(0xFBA3)),
        (ADS1115Settings(bus: 1, channel: 0, fullScale: .v1_024, dataRate: .sps16), UInt16(0xC723)),
        (ADS1115Settings(bus: 1, channel: 0, fullScale: .v0_512, dataRate: .sps475), UInt16(0xC9C3)),
    ] as [(ADS1115Settings, UInt16)])
    func adsConfigWord(settings: ADS1115Settings, expected: UInt16) {
        #expect(ADS1115Conversion.configWord(settings) == expected)
    }

    @Test("ADS1115 single shot: config written byte-swapped, OS polled until done, conversion decoded to volts")
    func adsSingleShot() throws {
        let bus = FakeSMBus(words: [
            0x01: [smbus(0x4583), smbus(0x4583), smbus(0xC583)],  // busy, busy, done
            0x00: [smbus(0x4000)],                                  // 16384 of 32768
        ])
        let (source, clock) = Self.ads(ADS1115Settings(bus: 1, channel: 0), bus)
        #expect(try source.readRaw() == 1.024)
        #expect(bus.log == [.writeWord(0x01, 0x83C5), .readWord(0x01), .readWord(0x01), .readWord(0x01), .readWord(0x00)])
        // Waited the conversion time (1.1 / 128 s + 0.1 ms), then a tenth of it per busy poll.
        let conversion = UInt64(1.1e9 / 128) + 100_000
        #expect(clock.sleeps.withLock { $0 } == [conversion, conversion / 10, conversion / 10])
        #expect(try source.sample(at: Date()) == [.level(1.024)])
    }

    @Test("ADS1115 negative and full-scale codes", arguments: [
        (UInt16(0x7FFF), ADS1115Settings.FullScale.v4_096, 4.096 * 32767 / 32768),
        (UInt16(0x8000), .v4_096, -4.096),
        (UInt16(0xFFFF), .v6_144, -6.144 / 32768),
        (UInt16(0x0001), .v0_256, 0.256 / 32768),
    ] as [(UInt16, ADS1115Settings.FullScale, Double)])
    func adsVolts(code: UInt16, fullScale: ADS1115Settings.FullScale, volts: Double) {
        #expect(ADS1115Conversion.volts(conversion: code, fullScale: fullScale) == volts)
    }

    @Test("ADS1115 conversion that never finishes: bounded polls, retried, then conversionTimeout")
    func adsTimeout() {
        let bus = FakeSMBus(words: [0x01: [smbus(0x4583)]])
        let (source, _) = Self.ads(ADS1115Settings(bus: 1, channel: 0, retries: 1), bus)
        #expect { try source.readRaw() } throws: { ($0 as? HardwareError)?.code == .conversionTimeout }
        let polls = bus.log.filter { $0 == .readWord(0x01) }.count
        #expect(polls == 2 * (ADS1115Source.maxPolls + 1))
        #expect(bus.log.filter { $0 == .writeWord(0x01, 0x83C5) }.count == 2)
    }

    // MARK: Bus errors

    @Test("a bus failing up to `retries` times still reads; one more failure throws busFailure", arguments: [0, 1, 3])
    func retries(retries: Int) throws {
        let words: [UInt8: [UInt16]] = [0x04: [smbus(0x3280)]]
        let ok = FakeSMBus(words: words, failFirst: retries)
        let clock = FakeDriverClock()
        let good = MAX17048Source(slot: "battery", sampleIntervalSeconds: 60,
                                  settings: .init(bus: 1, retries: retries), device: ok, clock: clock.clock)
        #expect(try good.readRaw() == 50.5)
        #expect(clock.sleeps.withLock { $0 }.count == retries)

        let failing = FakeSMBus(words: words, failFirst: retries + 1)
        let bad = MAX17048Source(slot: "battery", sampleIntervalSeconds: 60,
                                 settings: .init(bus: 1, retries: retries), device: failing, clock: clock.clock)
        do {
            _ = try bad.readRaw()
            Issue.record("expected a HardwareError")
        } catch let error as HardwareError {
            #expect(error.code == .busFailure)
            #expect(error.message == "MAX17048 at 0x36 on i2c-1: Remote I/O error (fake) (after \(retries + 1) attempt\(retries == 0 ? "" : "s"))")
            #expect(error.description == "busFailure: " + error.message)
        }
        #expect(failing.log.count == retries + 1)
    }

    @Test("every I2C driver turns a dead bus into a HardwareError, never a trap")
    func deadBusEverywhere() {
        let clock = FakeDriverClock().clock
        let sources: [any RawValueSource] = [
            ADS1115Source(slot: "a", sampleIntervalSeconds: 1, settings: .init(bus: 1, channel: 0),
                          device: FakeSMBus(failFirst: 1_000), clock: clock),
            MAX17048Source(slot: "b", sampleIntervalSeconds: 1, settings: .init(bus: 1),
                           device: FakeSMBus(failFirst: 1_000), clock: clock),
            I2CRegisterSource(slot: "c", sampleIntervalSeconds: 1, settings: .init(bus: 1, address: 0x20, register: 0x10),
                              device: FakeSMBus(failFirst: 1_000), clock: clock),
        ]
        for source in sources {
            #expect { try source.sample(at: Date()) } throws: { ($0 as? HardwareError)?.code == .busFailure }
        }
    }

    // MARK: MAX17048

    @Test("MAX17048: SOC byte-swapped from the SMBus word, in percent")
    func maxCell() throws {
        let bus = FakeSMBus(words: [
            0x04: [smbus(0x6380)],  // 99 + 128/256 %
        ])
        let source = MAX17048Source(slot: "battery", sampleIntervalSeconds: 60, settings: .init(bus: 2),
                                    device: bus, clock: FakeDriverClock().clock)
        #expect(try source.readRaw() == 99.5)
        #expect(try source.sample(at: Date()) == [.level(99.5)])
        #expect(bus.log == [.readWord(0x04), .readWord(0x04)])
        #expect(MAX17048Registers.percent(soc: 0x0001) == 1.0 / 256)
    }

    // MARK: i2c-register

    struct RegisterCase: CustomTestStringConvertible, Sendable {
        var width: I2CRegisterSettings.Width
        var order: I2CRegisterSettings.ByteOrder
        var signed: Bool
        var transfer: I2CRegisterSettings.Transfer
        /// Register contents from the first register up.
        var registers: [UInt8]
        var expected: Double
        var testDescription: String { "\(width.rawValue)-bit \(order) \(signed ? "signed" : "unsigned") by \(transfer)" }
    }

    /// Every combination, each on bytes whose top bit is set so signedness matters.
    static let registerCases: [RegisterCase] = {
        var cases: [RegisterCase] = []
        for transfer in I2CRegisterSettings.Transfer.allCases {
            for order in I2CRegisterSettings.ByteOrder.allCases {
                for signed in [false, true] {
                    cases.append(RegisterCase(width: .bits8, order: order, signed: signed, transfer: transfer,
                                              registers: [0xFE], expected: signed ? -2 : 254))
                    let b16: [UInt8] = [0x80, 0x01]  // big: 0x8001, little: 0x0180
                    let v16: Double = order == .big ? (signed ? -32767 : 32769) : 384
                    cases.append(RegisterCase(width: .bits16, order: order, signed: signed, transfer: transfer,
                                              registers: b16, expected: v16))
                    let b16n: [UInt8] = [0x01, 0x80]  // big: 0x0180, little: 0x8001
                    let v16n: Double = order == .little ? (signed ? -32767 : 32769) : 384
                    cases.append(RegisterCase(width: .bits16, order: order, signed: signed, transfer: transfer,
                                              registers: b16n, expected: v16n))
                    let b32: [UInt8] = [0xFF, 0xFF, 0xFF, 0xFE]  // big: 0xFFFFFFFE, little: 0xFEFFFFFF
                    let v32: Double = order == .big
                        ? (signed ? -2 : 4_294_967_294)
                        : (signed ? -16_777_217 : 4_278_190_079)
                    cases.append(RegisterCase(width: .bits32, order: order, signed: signed, transfer: transfer,
                                              registers: b32, expected: v32))
                }
            }
        }
        return cases
    }()

    @Test("i2c-register decodes every width, byte order, signedness and transfer", arguments: registerCases)
    func register(_ c: RegisterCase) throws {
        let base: UInt8 = 0x10
        var bytes: [UInt8: UInt8] = [:]
        var words: [UInt8: [UInt16]] = [:]
        for (i, byte) in c.registers.enumerated() {
            bytes[base + UInt8(i)] = byte
            // A word read at register r returns r in the low byte and r + 1 in the high byte.
            let next = i + 1 < c.registers.count ? c.registers[i + 1] : 0
            words[base + UInt8(i)] = [UInt16(byte) | UInt16(next) << 8]
        }
        let bus = FakeSMBus(words: words, bytes: bytes)
        let settings = I2CRegisterSettings(bus: 1, address: 0x40, register: base, width: c.width, byteOrder: c.order,
                                           signed: c.signed, transfer: c.transfer, scale: 0.5, offset: 10)
        let source = I2CRegisterSource(slot: "toner", sampleIntervalSeconds: 60, settings: settings, device: bus,
                                       clock: FakeDriverClock().clock)
        #expect(try source.readRaw() == c.expected * 0.5 + 10)
        let expectedLog: [FakeSMBus.Transfer] = c.transfer == .byte || c.width == .bits8
            ? (0..<c.registers.count).map { .readByte(base + UInt8($0)) }
            : stride(from: 0, to: c.registers.count, by: 2).map { .readWord(base + UInt8($0)) }
        #expect(bus.log == expectedLog)
    }

    @Test("settings problems name their YAML keys")
    func problems() {
        #expect(ADS1115Settings(bus: 1, channel: 0).problems.isEmpty)
        #expect(ADS1115Settings(bus: 1, address: 0x50, channel: 4).problems.map(\.description)
                == ["address: expected 0x48, 0x49, 0x4a or 0x4b", "channel: expected 0, 1, 2 or 3"])
        #expect(I2CRegisterSettings(bus: 1, address: 0x40, register: 0xFE, width: .bits32).problems.map(\.description)
                == ["register: a 32-bit value starting at 254 runs past register 0xff"])
        #expect(MAX17048Settings(bus: 1, retries: 11).problems.map(\.description) == ["retries: expected 0 to 10"])
    }

    // MARK: errors

    @Test("a bus failure keeps its HardwareError and errno through the retries, and through a second wrapping")
    func errnoSurvives() throws {
        let clock = FakeDriverClock()
        var thrown: HardwareError?
        do {
            _ = try BusRetry.run(retries: 2, clock: clock.clock, device: "ADS1115 0x48 on /dev/i2c-1") { () throws -> Int in
                throw HardwareError(.transferFailed, "SMBus read failed: Input/output error", errno: EIO)
            }
        } catch {
            thrown = error
        }
        let error = try #require(thrown)
        #expect(error.code == .busFailure)
        #expect(error.errno == EIO)
        #expect(error.causeCode == .transferFailed)
        #expect(error.message.contains("Input/output error"))
        #expect(HardwareError(.lineFailure, "outer", cause: error).errno == EIO)
        #expect(HardwareError(.lineFailure, "outer", cause: error).causeCode == .transferFailed)
        #expect(HardwareError(.notReady, "no cause").errno == nil)
    }
}
