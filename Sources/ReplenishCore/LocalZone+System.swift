import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Finding zones: by name in the system's zoneinfo, the system's own zone (`TZ`, `/etc/localtime`),
/// and the TZif format of those files (RFC 8536).
extension LocalZone {
    public static let zoneinfoDirectory = "/usr/share/zoneinfo"

    /// The zone named `identifier`: `UTC` or `GMT`, a fixed offset (`UTC+05:30`, `GMT-3`), or an
    /// IANA name (`Europe/Berlin`) whose TZif file is in `directory`. Nil when there is no such zone.
    public init?(identifier: String, directory: String = LocalZone.zoneinfoDirectory) {
        if identifier == "UTC" || identifier == "GMT" {
            self = .utc
            return
        }
        if let fixed = Self.fixedOffset(identifier) {
            self = fixed
            return
        }
        guard Self.isZoneName(identifier), let bytes = Self.readFile(directory + "/" + identifier),
              let zone = LocalZone(tzif: bytes, name: identifier) else { return nil }
        self = zone
    }

    /// The system's zone: `TZ` when it is set (`:Name`, `Name`, an absolute path to a TZif file, or a
    /// POSIX rule; empty or unreadable means UTC, as in glibc), else `/etc/localtime`, else UTC.
    public static func system(tz: String?, directory: String = LocalZone.zoneinfoDirectory,
                              localtime: String = "/etc/localtime") -> LocalZone {
        guard let tz else {
            guard let bytes = readFile(localtime) else { return .utc }
            return LocalZone(tzif: bytes, name: linkedName(localtime) ?? "localtime") ?? .utc
        }
        let spec = tz.hasPrefix(":") ? String(tz.dropFirst()) : tz
        if spec.isEmpty { return .utc }
        if spec.hasPrefix("/") {
            return readFile(spec).flatMap { LocalZone(tzif: $0, name: spec) } ?? .utc
        }
        if let zone = LocalZone(identifier: spec, directory: directory) { return zone }
        if let rule = PosixZoneRule(spec) {
            return LocalZone(name: spec, transitions: [], offsets: [], initialOffset: Int32(rule.standardOffset), rule: rule)
        }
        return .utc
    }

    /// The zone of this process's environment and system (`system(tz:)` with `TZ`), read anew on each call.
    public static var current: LocalZone {
        system(tz: getenv("TZ").map { String(cString: $0) })
    }

    /// A zone from the contents of a TZif file: the 64-bit data of version 2 and later (the 32-bit
    /// data of version 1 only when there is nothing else) and the footer's TZ rule. Nil when the
    /// data is not TZif.
    public init?(tzif bytes: [UInt8], name: String) {
        var reader = TZifReader(bytes: bytes)
        guard let first = reader.header() else { return nil }
        var header = first
        var timeSize = 4
        if first.version >= UInt8(ascii: "2") {
            guard reader.skip(first.dataLength(timeSize: 4)), let second = reader.header() else { return nil }
            header = second
            timeSize = 8
        }
        guard let block = reader.block(header, timeSize: timeSize) else { return nil }
        var rule: PosixZoneRule?
        if timeSize == 8, reader.take(UInt8(ascii: "\n")) {
            let footer = reader.line()
            if let footer, !footer.isEmpty {
                guard let parsed = PosixZoneRule(footer) else { return nil }
                rule = parsed
            }
        }
        self.init(name: name, transitions: block.transitions, offsets: block.offsets,
                  initialOffset: block.initialOffset, rule: rule)
    }

    /// A plausible relative zoneinfo path: no `..`, no leading `/`, only letters, digits, `_ + - .`.
    static func isZoneName(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= 255, !name.hasPrefix("/") else { return false }
        let allowed = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-./".utf8)
        guard name.utf8.allSatisfy(allowed.contains) else { return false }
        return !name.split(separator: "/", omittingEmptySubsequences: false).contains { $0.isEmpty || $0 == "." || $0 == ".." }
    }

    /// `UTC+05:30`, `GMT-3`, `UTC+0545`: a fixed offset east of UTC (sign as written, unlike POSIX).
    static func fixedOffset(_ identifier: String) -> LocalZone? {
        guard identifier.hasPrefix("UTC") || identifier.hasPrefix("GMT") else { return nil }
        let rest = identifier.dropFirst(3)
        guard let sign = rest.first, sign == "+" || sign == "-" else { return nil }
        let parts = rest.dropFirst().split(separator: ":", omittingEmptySubsequences: false)
        guard parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        let hours: Int?, minutes: Int?
        switch (parts.count, parts[0].count) {
        case (1, 1...2): (hours, minutes) = (Int(parts[0]), 0)
        case (1, 4): (hours, minutes) = (Int(parts[0].prefix(2)), Int(parts[0].suffix(2)))
        case (2, 1...2) where parts[1].count == 2: (hours, minutes) = (Int(parts[0]), Int(parts[1]))
        default: return nil
        }
        guard let hours, let minutes, hours <= 18, minutes < 60 else { return nil }
        return fixed(seconds: (hours * 3_600 + minutes * 60) * (sign == "-" ? -1 : 1), name: identifier)
    }

    /// The whole file, or nil; at most 1 MiB (zone files are a few KiB).
    static func readFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while bytes.count <= 1 << 20 {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { return bytes }
            bytes += chunk[0..<n]
        }
        return nil
    }

    /// `Europe/Berlin` for an `/etc/localtime` linked to `…/zoneinfo/Europe/Berlin`.
    static func linkedName(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4_096)
        let n = readlink(path, &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        let target = buffer[0..<n].map { UInt8(bitPattern: $0) }
        let marker = Array("zoneinfo/".utf8)
        guard let start = target.indices.first(where: { target[$0...].starts(with: marker) }) else { return nil }
        let name = String(decoding: target[(start + marker.count)...], as: UTF8.self)
        return isZoneName(name) ? name : nil
    }
}

/// Reads the parts of a TZif file (RFC 8536) a zone needs.
private struct TZifReader {
    let bytes: [UInt8]
    var i = 0

    struct Header {
        var version: UInt8
        var isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt: Int

        func dataLength(timeSize: Int) -> Int {
            timecnt * timeSize + timecnt + typecnt * 6 + charcnt + leapcnt * (timeSize + 4) + isstdcnt + isutcnt
        }
    }

    struct Block {
        var transitions: [Int64]
        var offsets: [Int32]
        var initialOffset: Int32
    }

    mutating func header() -> Header? {
        guard i + 44 <= bytes.count, Array(bytes[i..<i + 4]) == Array("TZif".utf8) else { return nil }
        let version = bytes[i + 4]
        let counts = (0..<6).map { Int(integer(at: i + 20 + 4 * $0, size: 4)) }
        i += 44
        guard counts.allSatisfy({ (0...100_000).contains($0) }), counts[4] >= 1 else { return nil }
        return Header(version: version, isutcnt: counts[0], isstdcnt: counts[1], leapcnt: counts[2],
                      timecnt: counts[3], typecnt: counts[4], charcnt: counts[5])
    }

    mutating func skip(_ n: Int) -> Bool {
        guard i + n <= bytes.count else { return false }
        i += n
        return true
    }

    mutating func block(_ h: Header, timeSize: Int) -> Block? {
        let start = i
        guard skip(h.dataLength(timeSize: timeSize)) else { return nil }
        let times = (0..<h.timecnt).map { integer(at: start + $0 * timeSize, size: timeSize) }
        let indexBase = start + h.timecnt * timeSize
        let typeBase = indexBase + h.timecnt
        let typeOffsets = (0..<h.typecnt).map { Int32(truncatingIfNeeded: integer(at: typeBase + $0 * 6, size: 4)) }
        var offsets: [Int32] = []
        for k in 0..<h.timecnt {
            let index = Int(bytes[indexBase + k])
            guard index < h.typecnt, k == 0 || times[k] > times[k - 1] else { return nil }
            offsets.append(typeOffsets[index])
        }
        return Block(transitions: times, offsets: offsets, initialOffset: typeOffsets[0])
    }

    mutating func take(_ byte: UInt8) -> Bool {
        guard i < bytes.count, bytes[i] == byte else { return false }
        i += 1
        return true
    }

    /// Up to the next newline (consumed); nil without one.
    mutating func line() -> String? {
        guard let end = bytes[i...].firstIndex(of: UInt8(ascii: "\n")) else { return nil }
        defer { i = end + 1 }
        return String(decoding: bytes[i..<end], as: UTF8.self)
    }

    /// A big-endian signed integer of `size` bytes.
    private func integer(at offset: Int, size: Int) -> Int64 {
        var value: UInt64 = 0
        for k in 0..<size { value = value << 8 | UInt64(bytes[offset + k]) }
        if size == 4 { return Int64(Int32(bitPattern: UInt32(truncatingIfNeeded: value))) }
        return Int64(bitPattern: value)
    }
}
