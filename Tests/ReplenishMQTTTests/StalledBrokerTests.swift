import Foundation
import Synchronization
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

/// A broker that keeps the connection open but stops answering (hung, or SIGSTOPped).
@Suite("a stalled broker", .serialized)
struct StalledBrokerTests {
    @Test("is logged as no answer within 1.5 × keepalive, with the keepalive; the client reconnects once it answers again")
    func stalledBrokerNamed() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        defer { broker.stop() }
        let log = CapturedLog()
        // 5 s is both libmosquitto's and the config's minimum keepalive.
        let options = MQTTClientOptions(host: broker.host, port: broker.port, clientID: "stall-test", keepAliveSeconds: 5,
                                        reconnectDelayMin: 0.05, reconnectDelayMax: 0.5)
        let client = try MQTTClient(options: options, logger: log.logger)
        let events = EventRecorder.recording(client)
        client.start()
        defer { client.stop() }
        try #require(await events.next { $0.isConnected } != nil, "did not connect")

        broker.pause()
        // libmosquitto gives up one keepalive after an unanswered PINGREQ: 10 to 15 s here.
        let lost = await log.line(within: 30) { $0.contains("MQTT connection lost") }
        broker.resume()
        let line = try #require(lost, "no connection-lost line; log:\n\(log.text)")
        #expect(line.contains("no answer within 1.5 × keepalive (keepalive 5s)"), "\(line)")
        #expect(!line.contains("Unknown error"), "\(line)")
        #expect(await events.next(within: 20) { $0.isConnected } != nil, "did not reconnect after SIGCONT")
    }
}
