import FoundationEssentials
#if canImport(Glibc)
import Glibc
#endif

/// Every MQTT message a listener received, one JSON line each (`topic`, `payload` as text,
/// `retained`), for Tests/Contract/validate.py to check against the schemas in `schemas/`.
/// Written by `replenishd demo --capture FILE` and by the tests' subscriber under
/// `REPLENISHD_CAPTURE_DIR`.
public final class MessageCapture: Sendable {
    private struct Line: Encodable {
        var topic: String
        var payload: String
        var retained: Bool
    }

    private let fd: Int32
    public let path: String

    /// Opens `path` for appending, creating it when missing.
    public init(path: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw AgentError(.unreadable, "cannot open the capture file \(path): \(String(cString: strerror(errno)))")
        }
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// Appends one message. One write() per line on an O_APPEND descriptor, so concurrent
    /// writers never interleave within a line; a failed write is dropped (the validator then
    /// misses a message, it never sees half of one).
    public func record(topic: String, payload: [UInt8], retained: Bool) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var bytes = try? encoder.encode(Line(topic: topic, payload: String(decoding: payload, as: UTF8.self),
                                                   retained: retained)) else { return }
        bytes.append(UInt8(ascii: "\n"))
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    }
}
