import Foundation
import Logging
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

/// Test logger; `REPLENISH_TEST_LOG=debug` shows the clients' and brokers' logs.
let testLogger: Logger = {
    var logger = Logger(label: "ReplenishMQTTTests")
    logger.logLevel = ProcessInfo.processInfo.environment["REPLENISH_TEST_LOG"].flatMap(Logger.Level.init(rawValue:)) ?? .error
    return logger
}()

func uniqueTopic(_ name: String) -> String {
    "test/\(name)/\(UInt64.random(in: 0...UInt64.max))"
}

/// A client of `broker`, or of whatever listens on `port` (a `TCPProxy` in front of the broker).
func makeClient(
    _ broker: TestBroker,
    id: String,
    will: MQTTWill? = nil,
    keepAlive: Int = 60,
    port: Int? = nil
) throws -> MQTTClient {
    try MQTTClient(
        options: MQTTClientOptions(
            host: broker.host, port: port ?? broker.port, clientID: id, keepAliveSeconds: keepAlive, will: will,
            reconnectDelayMin: 0.05, reconnectDelayMax: 0.5
        ),
        logger: testLogger
    )
}

/// Starts a client and waits for its first `.connected`.
func startConnected(_ broker: TestBroker, id: String, will: MQTTWill? = nil, port: Int? = nil) async throws -> (MQTTClient, EventRecorder) {
    let client = try makeClient(broker, id: id, will: will, port: port)
    let recorder = EventRecorder.recording(client)
    client.start()
    try #require(await recorder.next { $0.isConnected } != nil, "client \(id) did not connect")
    return (client, recorder)
}

/// Subscribes and proves the subscription is active: the broker handles a connection's packets in
/// order, so once the client receives its own probe on `topic`, later messages will reach it too.
func subscribeConfirmed(_ client: MQTTClient, _ recorder: EventRecorder, to topic: String) async throws {
    try client.subscribe(topic, qos: 1)
    try await confirmSubscription(client, recorder, topic: topic)
}

func confirmSubscription(_ client: MQTTClient, _ recorder: EventRecorder, topic: String) async throws {
    let probe = Array("probe-\(UInt64.random(in: 0...UInt64.max))".utf8)
    try client.publish(topic: topic, payload: probe, qos: 1, retain: false)
    let seen = await recorder.next { $0 == .message(topic: topic, payload: probe, retained: false) }
    try #require(seen != nil, "subscription to \(topic) not confirmed")
}
