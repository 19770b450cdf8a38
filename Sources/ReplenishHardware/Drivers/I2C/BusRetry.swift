/// The one retry policy of the I2C drivers: a bounded number of attempts, a short pause between
/// them, then a `HardwareError` that the agent turns into the slot's `fault` health. Never traps.
enum BusRetry {
    /// Pause between attempts: long enough for a chip that NAKed while busy or a bus that saw
    /// a glitch, short enough to stay within a sample.
    static let pauseNanoseconds: UInt64 = 5_000_000

    /// Runs `body` up to `1 + retries` times; the final error names the device and the last cause.
    static func run<T>(retries: Int, clock: DriverClock, device: String, _ body: () throws -> T) throws(HardwareError) -> T {
        let attempts = 1 + max(0, retries)
        var lastError: (any Error)?
        for attempt in 1...attempts {
            do {
                return try body()
            } catch {
                lastError = error
                if attempt < attempts { clock.sleep(pauseNanoseconds) }
            }
        }
        // A driver's own verdict (a conversion timeout) keeps its code; a line or bus failure is busFailure.
        let verdict = (lastError as? HardwareError).flatMap { $0.code.isReadingFailure ? $0 : nil }
        let code = verdict?.code ?? .busFailure
        let cause = verdict?.message ?? lastError.map { "\($0)" } ?? "unknown error"
        throw HardwareError(code, "\(device): \(cause) (after \(attempts) attempt\(attempts == 1 ? "" : "s"))", cause: lastError)
    }
}

/// Register words as the chips define them (most significant byte first) versus SMBus word
/// transfers (least significant byte first on the wire, SMBus 2.0 §5.5.4/5.5.5).
enum WireOrder {
    /// A big-endian chip register read with an SMBus word read.
    static func bigEndianRegister(fromSMBusWord word: UInt16) -> UInt16 { word.byteSwapped }
    /// The SMBus word to write so that the chip receives `value` most significant byte first.
    static func smbusWord(forBigEndianRegister value: UInt16) -> UInt16 { value.byteSwapped }
}

/// Formats an I2C address the way i2cdetect shows it.
func hexAddress(_ address: UInt8) -> String {
    "0x" + String(address, radix: 16, uppercase: false).leftPadded(to: 2)
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
