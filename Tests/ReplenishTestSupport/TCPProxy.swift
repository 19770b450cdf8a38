import Foundation
import Glibc
import ReplenishMQTT
import Synchronization

/// A loopback TCP proxy in front of a local port, for network failures a test can cause: `cut()`
/// ends every connection through it at once (no MQTT DISCONNECT: a dying network), and
/// `dropToTarget()` silently loses what the client sends from then on. New connections are
/// forwarded normally, so a client that reconnects through it gets through again.
public final class TCPProxy: Sendable {
    /// The port clients connect to.
    public let port: Int
    private let targetPort: Int
    private let listener: Int32
    private let state = Mutex(State())

    private struct State {
        var connections: [Connection] = []
        var closed = false
    }

    /// Both sockets of one proxied connection; closed by the last of its two pumps.
    private final class Connection: Sendable {
        let client: Int32
        let target: Int32
        /// Bytes from the client are thrown away.
        let dropping = Atomic<Bool>(false)
        private let pumps = Atomic<Int>(2)

        init(client: Int32, target: Int32) {
            self.client = client
            self.target = target
        }

        func shutdownBoth() {
            _ = Glibc.shutdown(client, Int32(SHUT_RDWR))
            _ = Glibc.shutdown(target, Int32(SHUT_RDWR))
        }

        func pumpEnded() {
            shutdownBoth()
            if pumps.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 {
                Glibc.close(client)
                Glibc.close(target)
            }
        }
    }

    /// Listens on a free 127.0.0.1 port and forwards each connection to 127.0.0.1:`targetPort`.
    public init(to targetPort: Int) throws {
        self.targetPort = targetPort
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        var address = LocalBroker.loopbackAddress(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, length) == 0 && listen(fd, 16) == 0 && getsockname(fd, $0, &length) == 0
            }
        }
        guard ok else {
            let code = errno
            Glibc.close(fd)
            throw POSIXError(.init(rawValue: code) ?? .EIO)
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Ends every current connection (both sides see the TCP connection close).
    public func cut() {
        let connections = state.withLock { s in
            defer { s.connections = [] }
            return s.connections
        }
        connections.forEach { $0.shutdownBoth() }
    }

    /// From now on, bytes from the clients of the current connections are read and thrown away:
    /// a client believes they were sent, the target never sees them. Later connections forward.
    public func dropToTarget() {
        state.withLock { s in s.connections.forEach { $0.dropping.store(true, ordering: .sequentiallyConsistent) } }
    }

    /// Stops accepting and cuts every connection; call it when done (the accepting thread holds the proxy).
    public func close() {
        state.withLock { $0.closed = true }
        _ = Glibc.shutdown(listener, Int32(SHUT_RDWR))
        cut()
    }

    private func acceptLoop() {
        defer { Glibc.close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                return  // shut down
            }
            let target = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            var address = LocalBroker.loopbackAddress(port: targetPort)
            let connected = target >= 0 && withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(target, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
                }
            }
            guard connected, state.withLock({ !$0.closed }) else {
                Glibc.close(client)
                if target >= 0 { Glibc.close(target) }
                continue
            }
            let connection = Connection(client: client, target: target)
            state.withLock { $0.connections.append(connection) }
            Thread.detachNewThread { [self] in pump(connection, from: client, to: target, toTarget: true) }
            Thread.detachNewThread { [self] in pump(connection, from: target, to: client, toTarget: false) }
        }
    }

    private func pump(_ connection: Connection, from source: Int32, to destination: Int32, toTarget: Bool) {
        defer { connection.pumpEnded() }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { return }
            if toTarget, connection.dropping.load(ordering: .sequentiallyConsistent) { continue }
            var sent = 0
            while sent < count {
                let n = buffer.withUnsafeBytes { send(destination, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { return }
                sent += n
            }
        }
    }
}
