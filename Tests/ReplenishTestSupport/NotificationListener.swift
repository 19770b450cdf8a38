import Foundation
import Glibc

/// The receiving end of the notify protocol: a datagram socket standing in for systemd's, for
/// tests that start the daemon with `NOTIFY_SOCKET` pointing here. Tests also
/// bind one where journald's socket would be, to read what the journal would get.
public final class NotificationListener: Sendable {
    /// The socket's path, to pass as `NOTIFY_SOCKET`.
    public let path: String
    private let fd: Int32

    /// Binds a fresh socket in `directory` (the temporary directory by default).
    public convenience init(directory: String = NSTemporaryDirectory()) throws {
        try self.init(path: (directory as NSString).appendingPathComponent("notify-\(UUID().uuidString.prefix(8))"))
    }

    /// Binds a socket at `path` (which must not exist), e.g. where the journal's would be.
    public init(path: String) throws {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path.utf8.prefix($0.count - 1)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0 else {
            let code = errno
            close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        self.path = path
        self.fd = fd
    }

    /// The next datagram, blocking the calling thread at most `timeout` seconds; nil when none came.
    public func receive(timeout: Double = 2) -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, Int32(timeout * 1000)) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    /// Datagrams until one satisfies `predicate` (returned) or `timeout` seconds pass (nil).
    /// Waits without blocking a thread, so it is safe on Swift's cooperative pool.
    public func next(where predicate: (String) -> Bool = { _ in true }, within timeout: Double) async -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            if let message = receive(timeout: 0) {
                if predicate(message) { return message }
                continue
            }
            do { try await Task.sleep(for: .milliseconds(5)) } catch { return nil }
        }
        return nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}
