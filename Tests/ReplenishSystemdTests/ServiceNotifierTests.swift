import Foundation
import Glibc
@testable import ReplenishSystemd
import Testing

/// A datagram socket standing in for systemd's notification socket.
final class NotifySocket {
    let path: String
    let fd: Int32

    init() throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(UUID().uuidString.prefix(8))").path
        fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: path.utf8.prefix(raw.count - 1))
        }
        let size = socklen_t(MemoryLayout<sockaddr_un>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, size) }
        }
        guard fd >= 0, bound == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
    }

    /// The next datagram, waiting at most two seconds.
    func receive() -> String? {
        var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&poller, 1, 2000) == 1 else { return nil }
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = recv(fd, &buffer, buffer.count, 0)
        return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : nil
    }

    deinit {
        close(fd)
        unlink(path)
    }
}

@Suite("sd_notify", .serialized)
struct ServiceNotifierTests {
    @Test("ready, status and stopping reach the notification socket as systemd expects")
    func messagesArrive() throws {
        let socket = try NotifySocket()
        setenv("NOTIFY_SOCKET", socket.path, 1)
        defer { unsetenv("NOTIFY_SOCKET") }
        let notifier = ServiceNotifier()

        #expect(notifier.ready(status: "broker connecting\noutbox 0"))
        #expect(socket.receive() == "READY=1\nSTATUS=broker connecting outbox 0")
        #expect(notifier.status("outbox 3"))
        #expect(socket.receive() == "STATUS=outbox 3")
        #expect(notifier.stopping())
        #expect(socket.receive() == "STOPPING=1")
    }

    @Test("outside systemd nothing is sent and nothing fails")
    func outsideSystemd() {
        unsetenv("NOTIFY_SOCKET")
        #expect(ServiceNotifier().ready() == false)
    }
}
