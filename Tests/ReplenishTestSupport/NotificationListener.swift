import Foundation
import Glibc
import Synchronization

/// The receiving end of the notify protocol: a datagram socket standing in for systemd's, for
/// tests that start the daemon with `NOTIFY_SOCKET` pointing here. Tests also
/// bind one where journald's socket would be, to read what the journal would get.
public final class NotificationListener: Sendable {
    /// The socket's path, to pass as `NOTIFY_SOCKET`.
    public let path: String
    private let inbox: Inbox

    /// Datagrams read so far and not yet taken. A thread reads the socket all the time, as
    /// systemd does: a socket left unread holds only net.unix.max_dgram_qlen datagrams (10 by
    /// default), and the sender's next one is then dropped (a lost RELOADING=1 failed a test).
    private final class Inbox: Sendable {
        let queue = Mutex<[String]>([])
        let stopped = Atomic<Bool>(false)
    }

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
        let inbox = Inbox()
        self.inbox = inbox
        Thread {
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while !inbox.stopped.load(ordering: .acquiring) {
                var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 50) == 1 else { continue }  // 50 ms: how soon a stop is noticed
                let count = recv(fd, &buffer, buffer.count, 0)
                guard count > 0 else { continue }
                let message = String(decoding: buffer[..<count], as: UTF8.self)
                inbox.queue.withLock { $0.append(message) }
            }
            close(fd)
        }.start()
    }

    private func take() -> String? {
        inbox.queue.withLock { $0.isEmpty ? nil : $0.removeFirst() }
    }

    /// The next datagram, blocking the calling thread at most `timeout` seconds; nil when none came.
    public func receive(timeout: Double = 2) -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while true {
            if let message = take() { return message }
            guard ContinuousClock.now < deadline else { return nil }
            usleep(2_000)
        }
    }

    /// Datagrams until one satisfies `predicate` (returned) or `timeout` seconds pass (nil).
    /// Waits without blocking a thread, so it is safe on Swift's cooperative pool.
    public func next(where predicate: (String) -> Bool = { _ in true }, within timeout: Double) async -> String? {
        let deadline = ContinuousClock.now + .milliseconds(Int(timeout * 1000))
        while ContinuousClock.now < deadline {
            if let message = take() {
                if predicate(message) { return message }
                continue
            }
            do { try await Task.sleep(for: .milliseconds(20)) } catch { return nil }
        }
        // What came while this task waited for a thread past the deadline still counts.
        while let message = take() {
            if predicate(message) { return message }
        }
        return nil
    }

    deinit {
        inbox.stopped.store(true, ordering: .releasing)
        unlink(path)
    }
}
