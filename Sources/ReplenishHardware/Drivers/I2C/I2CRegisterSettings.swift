/// Settings of an `i2c-register` source: any chip whose reading sits in one register
/// (toner level sensors, ultrasonic level boards, microcontrollers on the appliance's bus).
public struct I2CRegisterSettings: Sendable, Equatable {
    public enum Width: Int, Sendable, Equatable, CaseIterable {
        case bits8 = 8, bits16 = 16, bits32 = 32
        var bytes: Int { rawValue / 8 }
    }

    /// Which byte of the value comes first on the wire (at the lowest register address).
    public enum ByteOrder: String, Sendable, Equatable, CaseIterable {
        case big, little
    }

    /// How the bytes are fetched: one SMBus byte read per register, or word reads that each
    /// return two consecutive registers (the chip must auto-increment its register pointer).
    public enum Transfer: String, Sendable, Equatable, CaseIterable {
        case byte, word
    }

    /// YAML `bus`: the I2C bus number N of `/dev/i2c-N`.
    public var bus: Int
    /// YAML `address`: the 7-bit device address.
    public var address: UInt8
    /// YAML `register`: the first register of the value.
    public var register: UInt8
    /// YAML `width`: 8, 16 or 32 bits (default 16).
    public var width: Width
    /// YAML `byte_order`: `big` (most significant byte first, default) or `little`.
    public var byteOrder: ByteOrder
    /// YAML `signed`: two's complement (default false).
    public var signed: Bool
    /// YAML `transfer`: `word` (default) or `byte`; an 8-bit value is always one byte read.
    public var transfer: Transfer
    /// YAML `scale`: the value is `raw × scale + offset` (default 1).
    public var scale: Double
    /// YAML `offset` (default 0).
    public var offset: Double
    /// YAML `unit`: what `scale` and `offset` make of the raw value, shown by probe (default "counts").
    public var unit: String
    /// YAML `retries`: further attempts after a failed transfer (default 3).
    public var retries: Int

    public init(bus: Int, address: UInt8, register: UInt8, width: Width = .bits16, byteOrder: ByteOrder = .big,
                signed: Bool = false, transfer: Transfer = .word, scale: Double = 1, offset: Double = 0,
                unit: String = "counts", retries: Int = 3) {
        self.bus = bus
        self.address = address
        self.register = register
        self.width = width
        self.byteOrder = byteOrder
        self.signed = signed
        self.transfer = transfer
        self.scale = scale
        self.offset = offset
        self.unit = unit
        self.retries = retries
    }

    /// Problems that make the settings unusable, each naming its YAML key; empty when valid.
    public var problems: [SettingsProblem] {
        var problems: [SettingsProblem] = []
        if bus < 0 { problems.append(SettingsProblem("bus", "expected the number N of /dev/i2c-N")) }
        // 0x00-0x07 and 0x78-0x7f are reserved addresses (I2C specification UM10204, table 4).
        if !(0x08...0x77).contains(address) { problems.append(SettingsProblem("address", "expected 0x08 to 0x77")) }
        if Int(register) + width.bytes - 1 > 0xff {
            problems.append(SettingsProblem("register", "a \(width.rawValue)-bit value starting at \(register) runs past register 0xff"))
        }
        if !(scale.isFinite && scale != 0) { problems.append(SettingsProblem("scale", "expected a finite, non-zero number")) }
        if !offset.isFinite { problems.append(SettingsProblem("offset", "expected a finite number")) }
        if !(0...10).contains(retries) { problems.append(SettingsProblem("retries", "expected 0 to 10")) }
        return problems
    }
}
