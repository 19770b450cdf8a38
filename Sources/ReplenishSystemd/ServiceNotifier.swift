import FoundationEssentials
import Glibc

/// Tells systemd how the service is doing (`Type=notify`): ready, status line, watchdog,
/// reloading, stopping. Outside systemd (no `NOTIFY_SOCKET`) every call does nothing.
///
/// The datagrams are sent here rather than through `sd_notify`, which reads the process
/// environment on every call: a notifier built for a given socket lets tests own that socket
/// without touching the environment other tests see.
public struct ServiceNotifier: Sendable {
    /// Where notifications go: a file system path, or `@name` for the abstract namespace.
    public let socketPath: String?
    /// `WATCHDOG_USEC` in seconds when systemd expects keep-alive pings from this process.
    public let watchdogInterval: Double?

    /// Reads `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` from `environment`.
    public init(environment: [String: String] = ServiceNotifier.processEnvironment()) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        watchdogInterval = Self.watchdogInterval(environment, pid: getpid())
    }

    /// `READY=1`: configuration, database and sensors are up.
    @discardableResult
    public func ready(status: String? = nil) -> Bool {
        send(["READY=1"] + (status.map { ["STATUS=\(Self.oneLine($0))"] } ?? []))
    }

    /// `STATUS=…`: the one line `systemctl status` shows.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(["STATUS=\(Self.oneLine(text))"])
    }

    /// `WATCHDOG=1`: every loop is making progress.
    @discardableResult
    public func watchdog() -> Bool {
        send(["WATCHDOG=1"])
    }

    /// `RELOADING=1`: a configuration reload has begun; `ready` follows when it is done.
    @discardableResult
    public func reloading(status: String? = nil) -> Bool {
        send(["RELOADING=1"] + (status.map { ["STATUS=\(Self.oneLine($0))"] } ?? []))
    }

    /// `STOPPING=1`: a clean stop has begun.
    @discardableResult
    public func stopping() -> Bool {
        send(["STOPPING=1"])
    }

    /// Sends the assignments as one datagram; true when the socket took it.
    private func send(_ assignments: [String]) -> Bool {
        guard let socketPath, socketPath.hasPrefix("/") || socketPath.hasPrefix("@") else { return false }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var pathBytes = Array(socketPath.utf8)
        if pathBytes.first == UInt8(ascii: "@") { pathBytes[0] = 0 }  // the abstract namespace
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard pathBytes.count < capacity else { return false }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: pathBytes) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + pathBytes.count + (pathBytes.first == 0 ? 0 : 1))
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        let message = Array(assignments.joined(separator: "\n").utf8)
        let sent = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), address, length) }
            }
        }
        return sent == message.count
    }

    /// A status must stay one line: a newline would start a new assignment.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }

    /// The variables `init` reads, as this process's environment has them.
    @usableFromInline
    static func processEnvironment() -> [String: String] {
        var environment: [String: String] = [:]
        for key in ["NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID"] {
            if let value = getenv(key) { environment[key] = String(cString: value) }
        }
        return environment
    }

    /// `WATCHDOG_USEC` applies when `WATCHDOG_PID` is unset or names this process.
    static func watchdogInterval(_ environment: [String: String], pid: Int32) -> Double? {
        guard let text = environment["WATCHDOG_USEC"], let micros = UInt64(text), micros > 0 else { return nil }
        if let owner = environment["WATCHDOG_PID"], Int32(owner) != pid { return nil }
        return Double(micros) / 1_000_000
    }
}
