/// The ADS1115's registers and the arithmetic of a single-shot conversion, without I/O.
/// Every number is from the TI datasheet SBAS444 (rev. D), section 9.6 "Register Map".
public enum ADS1115Conversion {
    /// Address pointer values (9.6, table 6: P[1:0]).
    public static let conversionRegister: UInt8 = 0x00
    public static let configRegister: UInt8 = 0x01

    /// Config bit 15, OS: written 1 starts a single conversion; read 1 means no conversion running.
    static let operationalStatus: UInt16 = 1 << 15
    /// Config bit 8, MODE: 1 is single-shot / power-down.
    static let singleShot: UInt16 = 1 << 8
    /// Config bits 1:0, COMP_QUE = 11: comparator disabled (its power-on default); bits 4:2 stay 0.
    static let comparatorDisabled: UInt16 = 0b11

    /// The config word that starts one conversion of `channel` against GND.
    public static func configWord(_ settings: ADS1115Settings) -> UInt16 {
        // MUX[2:0], bits 14:12: 100 = AIN0/GND, 101 = AIN1/GND, 110 = AIN2/GND, 111 = AIN3/GND.
        let mux = UInt16(0b100 + settings.channel) << 12
        return operationalStatus | mux | settings.fullScale.pgaBits << 9 | singleShot
            | settings.dataRate.bits << 5 | comparatorDisabled
    }

    /// Whether a config word read back says the conversion has finished.
    public static func isDone(config: UInt16) -> Bool { config & operationalStatus != 0 }

    /// Volts of a conversion register value: 16-bit two's complement, LSB = FSR / 2^15 (9.3.3).
    public static func volts(conversion: UInt16, fullScale: ADS1115Settings.FullScale) -> Double {
        Double(Int16(bitPattern: conversion)) * fullScale.rawValue / 32_768
    }

    /// Nominal conversion time plus the internal oscillator's 10 % tolerance (7.5, DR accuracy).
    static func conversionNanoseconds(_ rate: ADS1115Settings.DataRate) -> UInt64 {
        UInt64(1.1e9 / Double(rate.rawValue)) + 100_000
    }
}
