import Foundation
import Testing
@testable import ReplenishMQTT

@Suite("LocalBroker")
struct LocalBrokerTests {
    @Test("accepts connections on its port, restarts on the same port, stop is idempotent")
    func lifecycle() throws {
        let broker = try LocalBroker.start(logger: testLogger)
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
        let first = try LocalBroker.start(logger: testLogger)
        let second = try LocalBroker.start(logger: testLogger)
        #expect(first.port != second.port)
    }
}
