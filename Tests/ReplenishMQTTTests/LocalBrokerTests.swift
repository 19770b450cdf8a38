import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

@Suite("TestBroker")
struct LocalBrokerTests {
    @Test("accepts connections on its port, restarts on the same port, stop is idempotent")
    func lifecycle() throws {
        let broker = try TestBroker.start(logger: testLogger)
        #expect(broker.url == "mqtt://127.0.0.1:\(broker.port)")
        #expect(LocalBroker.acceptsConnections(port: broker.port))
        broker.stop()
        #expect(!LocalBroker.acceptsConnections(port: broker.port))
        broker.stop()
        try broker.restart()
        #expect(LocalBroker.acceptsConnections(port: broker.port))
        broker.stop()
    }

    @Test("two brokers get different ports")
    func distinctPorts() throws {
        let first = try TestBroker.start(logger: testLogger)
        let second = try TestBroker.start(logger: testLogger)
        #expect(first.port != second.port)
    }

    @Test("restart throws with the broker's log when its port has been taken meanwhile")
    func restartOnTakenPort() throws {
        let broker = try TestBroker.start(logger: testLogger)
        broker.stop()
        let blocker = try #require(listeningSocket(port: broker.port))
        defer { close(blocker) }

        let error = #expect(throws: MQTTError.self) { try broker.restart() }
        #expect(error?.code == .broker)
        #expect(error?.message.contains("Address already in use") == true)
    }

    /// A socket listening on 127.0.0.1:port, or nil.
    private func listeningSocket(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return nil }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7F00_0001).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(fd, 1) == 0 else { close(fd); return nil }
        return fd
    }
}
