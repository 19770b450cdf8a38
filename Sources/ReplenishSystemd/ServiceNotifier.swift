import CSystemd

/// Tells systemd how the service is doing (`Type=notify`): ready, status line, stopping.
/// Outside systemd (`NOTIFY_SOCKET` unset) every call does nothing.
public struct ServiceNotifier: Sendable {
    public init() {}

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

    /// `STOPPING=1`: a clean stop has begun.
    @discardableResult
    public func stopping() -> Bool {
        send(["STOPPING=1"])
    }

    /// Sends the assignments; true when systemd received them, false outside systemd or on error.
    /// The corresponding C function is `sd_notify`.
    private func send(_ assignments: [String]) -> Bool {
        sd_notify(0, assignments.joined(separator: "\n")) > 0
    }

    /// A status must stay one line: a newline would start a new assignment.
    private static func oneLine(_ text: String) -> String {
        String(text.map { $0.isNewline ? " " : $0 })
    }
}
