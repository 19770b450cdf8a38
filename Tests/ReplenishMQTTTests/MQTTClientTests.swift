import CMosquitto
import Foundation
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

@Suite("MQTTClient against a real mosquitto")
struct MQTTClientTests {
    @Test("QoS 1 publish yields .published with the same connection and message id; a subscriber gets the payload")
    func publishAcknowledgedAndDelivered() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("ack")
        let (subscriber, inbox) = try await startConnected(broker, id: "sub-ack")
        try await subscribeConfirmed(subscriber, inbox, to: topic)
        let (publisher, events) = try await startConnected(broker, id: "pub-ack")

        let payload = Array("{\"schema\":\"replenish.status/1\"}".utf8)
        let sent = try publisher.publish(topic: topic, payload: payload, qos: 1, retain: false)

        #expect(sent.connection == 1)
        let ack = await events.next { if case .published = $0 { true } else { false } }
        #expect(ack == .published(connection: sent.connection, messageID: sent.messageID))
        let received = await inbox.next(where: MQTTEvent.isMessage(on: topic))
        #expect(received == .message(topic: topic, payload: payload, retained: false))

        publisher.stop()
        subscriber.stop()
    }

    @Test("200 messages published in a row arrive at a subscriber in order, each acknowledged")
    func manyMessagesInOrder() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("order")
        let (subscriber, inbox) = try await startConnected(broker, id: "sub-order")
        try await subscribeConfirmed(subscriber, inbox, to: topic)
        let (publisher, events) = try await startConnected(broker, id: "pub-order")

        var messageIDs: Set<Int32> = []
        for index in 0..<200 {
            let sent = try publisher.publish(topic: topic, payload: Array("\(index)".utf8), qos: 1, retain: false)
            messageIDs.insert(sent.messageID)
        }
        #expect(messageIDs.count == 200)
        var received: [String] = []
        for _ in 0..<200 {
            guard let event = await inbox.next(where: MQTTEvent.isMessage(on: topic)), let payload = event.messagePayload else { break }
            received.append(String(decoding: payload, as: UTF8.self))
        }
        #expect(received == (0..<200).map { "\($0)" })
        var acknowledged: Set<Int32> = []
        while acknowledged.count < 200, let event = await events.next(where: { if case .published = $0 { true } else { false } }) {
            if case .published(1, let mid, _) = event { acknowledged.insert(mid) }
        }
        #expect(acknowledged == messageIDs)

        publisher.stop()
        subscriber.stop()
    }

    @Test("a client started before the broker is up connects once the broker starts")
    func connectsWhenBrokerComesUp() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        broker.stop()
        let client = try makeClient(broker, id: "early")
        let events = EventRecorder.recording(client)
        client.start()
        #expect(throws: MQTTError.self) { try client.publish(topic: "t", payload: [1], qos: 1, retain: false) }

        try broker.restart()
        let connected = await events.next { $0.isConnected }
        #expect(connected == .connected(connection: 1, sessionPresent: false))
        client.stop()
    }

    @Test("broker restart: .disconnected, then .connected with a higher generation, subscriptions restored; publish while down throws notConnected")
    func reconnectsAfterBrokerRestart() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("restart")
        let (subscriber, inbox) = try await startConnected(broker, id: "sub-restart")
        try await subscribeConfirmed(subscriber, inbox, to: topic)
        let (publisher, events) = try await startConnected(broker, id: "pub-restart")

        broker.stop()
        let lost = await events.next { $0.isDisconnected }
        #expect(lost?.connectionGeneration == 1)
        let error = #expect(throws: MQTTError.self) {
            try publisher.publish(topic: topic, payload: [1], qos: 1, retain: false)
        }
        #expect(error?.code == .notConnected)
        #expect(await inbox.next { $0.isDisconnected } != nil)

        try broker.restart()
        let reconnected = await events.next { $0.isConnected }
        #expect(reconnected == .connected(connection: 2, sessionPresent: false))
        #expect(await inbox.next { $0.isConnected }?.connectionGeneration == 2)
        // The subscriber re-subscribed in its on_connect, before any probe of its own could be sent.
        try await confirmSubscription(subscriber, inbox, topic: topic)

        let payload = Array("after restart".utf8)
        let sent = try publisher.publish(topic: topic, payload: payload, qos: 1, retain: false)
        #expect(sent.connection == 2)
        #expect(await events.next { if case .published = $0 { true } else { false } } == .published(connection: 2, messageID: sent.messageID))
        #expect(await inbox.next(where: MQTTEvent.isMessage(on: topic)) == .message(topic: topic, payload: payload, retained: false))

        publisher.stop()
        subscriber.stop()
    }

    @Test("the will is published when the connection dies without DISCONNECT, and the client reconnects")
    func willOnUncleanDisconnect() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let willTopic = uniqueTopic("availability")
        let (observer, inbox) = try await startConnected(broker, id: "observer")
        try await subscribeConfirmed(observer, inbox, to: willTopic)
        let will = MQTTWill(topic: willTopic, payload: Array("offline".utf8), qos: 1, retain: true)
        let proxy = try TCPProxy(to: broker.port)
        defer { proxy.close() }
        let (device, events) = try await startConnected(broker, id: "device-will", will: will, port: proxy.port)

        proxy.cut()  // the connection dies without DISCONNECT

        let delivered = await inbox.next(where: MQTTEvent.isMessage(on: willTopic))
        #expect(delivered?.messagePayload == Array("offline".utf8))
        #expect(await events.next { $0.isDisconnected }?.connectionGeneration == 1)
        #expect(await events.next { $0.isConnected } == .connected(connection: 2, sessionPresent: false))

        device.stop()
        observer.stop()
    }

    @Test("stop(final:) delivers a retained final message that a later subscriber receives as retained; no will on clean stop")
    func finalMessageOnCleanStop() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("availability")
        let (observer, inbox) = try await startConnected(broker, id: "observer-final")
        try await subscribeConfirmed(observer, inbox, to: topic)
        let will = MQTTWill(topic: topic, payload: Array("will".utf8), qos: 1, retain: true)
        let (device, events) = try await startConnected(broker, id: "device-final", will: will)
        try device.publish(topic: topic, payload: Array("online".utf8), qos: 1, retain: true)

        device.stop(final: (topic: topic, payload: Array("offline".utf8), retain: true))

        #expect(await events.next { $0.isDisconnected }?.connectionGeneration == 1)
        #expect(await events.hasFinished())
        let error = #expect(throws: MQTTError.self) { try device.publish(topic: topic, payload: [1], qos: 1, retain: false) }
        #expect(error?.code == .notConnected)

        // The observer saw online then offline; the will was discarded by the clean DISCONNECT.
        #expect(await inbox.next(where: MQTTEvent.isMessage(on: topic))?.messagePayload == Array("online".utf8))
        #expect(await inbox.next(where: MQTTEvent.isMessage(on: topic))?.messagePayload == Array("offline".utf8))
        let (late, lateInbox) = try await startConnected(broker, id: "late-subscriber")
        try late.subscribe(topic, qos: 1)
        #expect(await lateInbox.next(where: MQTTEvent.isMessage(on: topic)) == .message(topic: topic, payload: Array("offline".utf8), retained: true))
        try await confirmSubscription(observer, inbox, topic: topic)  // nothing (no will) arrived before the probe

        late.stop()
        observer.stop()
    }

    static let payloads: [String: [UInt8]] = [
        "empty": [],
        "all byte values with NULs": Array(0...255) + [0, 0, 0],
        "256 KiB": (0..<(256 * 1024)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ $0 >> 8) },
    ]

    @Test("payloads round-trip byte for byte", arguments: ["empty", "all byte values with NULs", "256 KiB"])
    func payloadRoundTrip(name: String) async throws {
        let payload = try #require(Self.payloads[name])
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("bytes")
        let (client, events) = try await startConnected(broker, id: "bytes")
        try await subscribeConfirmed(client, events, to: topic)

        try client.publish(topic: topic, payload: payload, qos: 1, retain: false)

        let received = await events.next(where: MQTTEvent.isMessage(on: topic))
        #expect(received?.messagePayload?.count == payload.count)
        #expect(received?.messagePayload == payload)
        client.stop()
    }

    @Test("publish before start throws notConnected; invalid QoS and topics throw invalidArgument")
    func publishErrors() throws {
        let client = try MQTTClient(options: MQTTClientOptions(host: "127.0.0.1", port: 1, clientID: "idle"), logger: testLogger)
        let notConnected = #expect(throws: MQTTError.self) { try client.publish(topic: "a", payload: [], qos: 1, retain: false) }
        #expect(notConnected?.code == .notConnected)
        let badQoS = #expect(throws: MQTTError.self) { try client.publish(topic: "a", payload: [], qos: 3, retain: false) }
        #expect(badQoS?.code == .invalidArgument)
        let badFilter = #expect(throws: MQTTError.self) { try client.subscribe("a/#/b", qos: 1) }
        #expect(badFilter?.code == .invalidArgument)
        client.stop()
        client.stop()
    }

    @Test("invalid options are rejected by init", arguments: [
        MQTTClientOptions(host: "", port: 1883, clientID: "x"),
        MQTTClientOptions(host: "h", port: 0, clientID: "x"),
        MQTTClientOptions(host: "h", port: 1883, clientID: "x", keepAliveSeconds: 2),
        MQTTClientOptions(host: "h", port: 1883, clientID: "", cleanSession: false),
        MQTTClientOptions(host: "h", port: 1883, clientID: "x", will: MQTTWill(topic: "a/+", payload: [], qos: 1, retain: true)),
        MQTTClientOptions(host: "h", port: 1883, clientID: "x", reconnectDelayMin: 2, reconnectDelayMax: 1),
    ])
    func invalidOptions(options: MQTTClientOptions) {
        let error = #expect(throws: MQTTError.self) { try MQTTClient(options: options, logger: testLogger) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("an error libmosquitto reports as MOSQ_ERR_ERRNO keeps errno, and its message says it")
    func errnoKept() {
        errno = ECONNREFUSED
        let error = MQTTError(code: .mosquitto, message: "connect failed", mosquittoResult: Int32(MOSQ_ERR_ERRNO.rawValue))
        #expect(error.errno == ECONNREFUSED)
        #expect(error.message == "connect failed: Connection refused (errno \(ECONNREFUSED))")
        #expect(MQTTError(code: .notConnected, message: "x", mosquittoResult: Int32(MOSQ_ERR_NO_CONN.rawValue)).errno == nil)
    }
}

@Suite("MQTTClient delivery guarantees")
struct MQTTClientDeliveryTests {
    @Test("a message unacknowledged when its connection dies is not re-sent by libmosquitto on the next connection")
    func noLibraryRedeliveryAcrossConnections() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("lost")
        let (subscriber, inbox) = try await startConnected(broker, id: "sub-lost")
        try await subscribeConfirmed(subscriber, inbox, to: topic)
        let proxy = try TCPProxy(to: broker.port)
        defer { proxy.close() }
        let (publisher, events) = try await startConnected(broker, id: "pub-lost", port: proxy.port)

        // Published into a connection that loses it, then dies: never acknowledged.
        proxy.dropToTarget()
        let lostID: Int32? = try publisher.publish(topic: topic, payload: Array("lost".utf8), qos: 1, retain: false).messageID
        proxy.cut()

        // Up to the reconnect, the lost message is never acknowledged.
        var seen: [MQTTEvent] = []
        while let event = await events.next(where: { _ in true }) {
            seen.append(event)
            if event.isConnected { break }
        }
        #expect(seen.first?.isDisconnected == true)
        #expect(seen.last == .connected(connection: 2, sessionPresent: false))
        let lost = try #require(lostID, "publish into the dead connection was refused")
        #expect(!seen.contains(.published(connection: 1, messageID: lost)))
        // Had the library re-sent it on connection 2, it would reach the subscriber before this.
        let payload = Array("after reconnect".utf8)
        let sent = try publisher.publish(topic: topic, payload: payload, qos: 1, retain: false)
        #expect(sent.connection == 2)
        #expect(await inbox.next(where: MQTTEvent.isMessage(on: topic))?.messagePayload == payload)

        publisher.stop()
        subscriber.stop()
    }

    @Test("publishes from many tasks at once are all acknowledged with distinct message ids")
    func concurrentPublishers() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let (client, events) = try await startConnected(broker, id: "concurrent")
        let topic = uniqueTopic("concurrent")

        let ids = try await withThrowingTaskGroup(of: [Int32].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    try (0..<50).map { index in
                        try client.publish(topic: topic, payload: Array("\(worker)-\(index)".utf8), qos: 1, retain: false).messageID
                    }
                }
            }
            return try await group.reduce(into: [Int32]()) { $0 += $1 }
        }
        #expect(Set(ids).count == 200)
        var acknowledged: Set<Int32> = []
        while acknowledged.count < 200, let event = await events.next(where: { if case .published = $0 { true } else { false } }) {
            if case .published(1, let mid, _) = event { acknowledged.insert(mid) }
        }
        #expect(acknowledged == Set(ids))
        client.stop()
    }
}
