#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import ReplenishCore

/// The kernel's word on the wall clock: synchronized when `adjtimex` (read-only, `modes = 0`)
/// does not return `TIME_ERROR` and `STA_UNSYNC` is clear. systemd-timesyncd, chrony and ntpd clear
/// `STA_UNSYNC` once they have disciplined the clock; the kernel sets it again when nobody has for a
/// while (maxerror past 16 s), which is why trust can also be lost.
///
/// Swift's Glibc module does not export `<sys/timex.h>`, so `adjtimex` is looked up with `dlsym`
/// and called with a zeroed buffer larger than any `struct timex`; the return value alone decides
/// (the kernel returns `TIME_ERROR` whenever `STA_UNSYNC` or `STA_CLOCKERR` is set), and where the
/// layout is known (64-bit Linux: `status` is the `int` at byte 40) `STA_UNSYNC` is checked as well.
/// The planned `CLinuxShims` C target would import the real struct instead.
///
/// Anything going wrong (no symbol, `-1` because a seccomp filter such as systemd's `ProtectClock=`
/// denies `adjtimex`) reads as unsynchronized: better an untrusted clock than a wrong day.
public struct KernelClockTrust: ClockTrust {
    /// `TIME_ERROR` from `<sys/timex.h>`.
    static let timeError: Int32 = 5
    /// `STA_UNSYNC` from `<sys/timex.h>`.
    static let staUnsync: Int32 = 0x0040
    /// Larger than `struct timex` on every Linux ABI (208 bytes on 64-bit).
    static let bufferSize = 512

    private typealias AdjtimexFunction = @convention(c) (UnsafeMutableRawPointer) -> Int32

    public init() {}

    public func isSynchronized() -> Bool {
        guard let (state, status) = Self.query() else { return false }
        if state == Self.timeError { return false }
        if let status, status & Self.staUnsync != 0 { return false }
        return true
    }

    /// The clock state `adjtimex` returned and, where the layout is known, the `status` bits;
    /// nil when the call is not possible or fails.
    static func query() -> (state: Int32, status: Int32?)? {
        #if os(Linux)
        guard let symbol = dlsym(nil, "adjtimex") else { return nil }
        let adjtimex = unsafeBitCast(symbol, to: AdjtimexFunction.self)
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bufferSize, alignment: 16)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: bufferSize)   // modes = 0: read only
        let state = adjtimex(buffer)
        guard state >= 0 else { return nil }
        #if arch(x86_64) || arch(arm64)
        let status: Int32? = buffer.load(fromByteOffset: 40, as: Int32.self)
        #else
        let status: Int32? = nil
        #endif
        return (state, status)
        #else
        return nil
        #endif
    }

    /// The trust for a board: an RTC declared in the config (`device.has_rtc`) is always trusted,
    /// otherwise the kernel decides.
    public static func forDevice(hasRTC: Bool) -> any ClockTrust {
        hasRTC ? FixedClockTrust(true) : KernelClockTrust()
    }
}
