import Foundation
import Logging
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

/// A client of `broker` speaking `version`, with a persistent session when `sessionExpiry` is given.
func makeClient(_ broker: TestBroker, id: String, version: MQTTProtocolVersion, sessionExpiry: UInt32? = nil,
                username: String? = nil, password: String? = nil, logger: Logger = testLogger) throws -> MQTTClient {
    var options = MQTTClientOptions(host: broker.host, port: broker.port, clientID: id, cleanSession: sessionExpiry == nil,
                                    username: username, password: password, reconnectDelayMin: 0.05, reconnectDelayMax: 0.5)
    options.protocolVersion = version
    options.sessionExpirySeconds = sessionExpiry
    return try MQTTClient(options: options, logger: logger)
}


private func isPublished(_ event: MQTTEvent) -> Bool { if case .published = event { true } else { false } }

/// What mosquitto 2.0.11 answers, seen in these tests: a QoS 1 PUBLISH that its ACL denies gets a
/// PUBACK with 0x87 (not authorized) under MQTT 5 and a plain PUBACK (0) under 3.1.1 (dropped all
/// the same); an accepted one 0x00, or 0x10 (no matching subscribers) when nobody subscribes; a
/// SUBSCRIBE its ACL denies a SUBACK with 0x87; a wrong password a CONNACK with 0x87.
@Suite("MQTT 5 against a real mosquitto")
struct MQTT5Tests {
    /// Anonymous clients may use test/#, except test/denied/# (deny wins in mosquitto 2.0).
    private func aclBroker() throws -> TestBroker {
        let acl = try TestBroker.aclFile(["topic readwrite test/#", "topic deny test/denied/#"])
        return try TestBroker.start(extraConfiguration: "acl_file \(acl)\n", logger: testLogger)
    }

    @Test("MQTT 5: connect, publish, PUBACK reason code, delivery to a subscriber")
    func connectAndDeliver() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("v5")
        let subscriber = try makeClient(broker, id: "v5-sub", version: .v5)
        let inbox = EventRecorder.recording(subscriber)
        subscriber.start()
        try #require(await inbox.next { $0.isConnected } != nil)
        try await subscribeConfirmed(subscriber, inbox, to: topic)
        let publisher = try makeClient(broker, id: "v5-pub", version: .v5)
        let events = EventRecorder.recording(publisher)
        publisher.start()
        try #require(await events.next { $0.isConnected } == .connected(connection: 1, sessionPresent: false))

        let sent = try publisher.publish(topic: topic, payload: Array("hello".utf8), qos: 1, retain: false)
        #expect(await events.next(where: isPublished) == .published(connection: 1, messageID: sent.messageID, reasonCode: 0))
        #expect(await inbox.next(where: MQTTEvent.isMessage(on: topic)) == .message(topic: topic, payload: Array("hello".utf8), retained: false))
        // Nobody subscribes: mosquitto says so (0x10), which is not a failure.
        let lonely = try publisher.publish(topic: uniqueTopic("nobody"), payload: [1], qos: 1, retain: false)
        let ack = await events.next(where: isPublished)
        #expect(ack == .published(connection: 1, messageID: lonely.messageID, reasonCode: 0x10))
        #expect(!MQTTEvent.isFailure(reasonCode: 0x10) && MQTTEvent.isFailure(reasonCode: 0x87))
        publisher.stop()
        subscriber.stop()
    }

    @Test("a publish the broker's ACL denies: PUBACK 0x87 under MQTT 5, a plain PUBACK under 3.1.1")
    func deniedPublish() async throws {
        let broker = try aclBroker()
        for (version, expected) in [(MQTTProtocolVersion.v5, UInt8(0x87)), (.v311, 0)] {
            let client = try makeClient(broker, id: "denied-\(version.rawValue)", version: version)
            let events = EventRecorder.recording(client)
            client.start()
            try #require(await events.next { $0.isConnected } != nil)
            let denied = try client.publish(topic: "test/denied/x", payload: [1], qos: 1, retain: false)
            #expect(await events.next(where: isPublished)
                    == .published(connection: 1, messageID: denied.messageID, reasonCode: expected), "\(version)")
            client.stop()
        }
        #expect(MQTTEvent.describe(reasonCode: 0x87) == "Not authorized (0x87)")
    }

    /// mosquitto 2.0.11's acl_file does not check SUBSCRIBEs (it grants them and filters on
    /// delivery); its dynamic security plugin refuses them, so that is what refuses test/denied/#.
    private func subscribeDenyingBroker() throws -> TestBroker {
        let plugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so"
        let json = """
            {"defaultACLAccess": {"publishClientSend": true, "publishClientReceive": true, "subscribe": true, "unsubscribe": true},
             "clients": [], "groups": [{"groupname": "anonymous", "roles": [{"rolename": "limited"}]}],
             "roles": [{"rolename": "limited", "acls": [{"acltype": "subscribePattern", "topic": "test/denied/#", "priority": 0, "allow": false}]}],
             "anonymousGroup": "anonymous"}
            """
        let file = try TestBroker.aclFile([json])
        return try TestBroker.start(extraConfiguration: "plugin \(plugin)\nplugin_opt_config_file \(file)\n", logger: testLogger)
    }

    @Test("a refused subscription is logged at error with the filter and the reason; the others work",
          .enabled(if: FileManager.default.fileExists(atPath: "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so")))
    func refusedSubscription() async throws {
        let broker = try subscribeDenyingBroker()
        let log = CapturedLog()
        let client = try makeClient(broker, id: "suback", version: .v5, logger: log.logger)
        let events = EventRecorder.recording(client)
        try client.subscribe("test/denied/+", qos: 1)
        client.start()
        try #require(await events.next { $0.isConnected } != nil)
        let line = await log.line { $0.hasPrefix("error the broker refused the subscription") }
        #expect(line?.contains("mqtt.topic=test/denied/+") == true, "\(log.text)")
        #expect(line?.contains("reason=Not authorized (0x87)") == true, "\(log.text)")
        try await subscribeConfirmed(client, events, to: uniqueTopic("granted"))
        #expect(log.lines { $0.hasPrefix("error the broker refused") }.count == 1)
        client.stop()
    }

    @Test("a refused CONNACK names its MQTT 5 reason")
    func refusedConnack() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replenish-pw-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let passwords = directory.appendingPathComponent("passwords").path
        try "device:right\n".write(toFile: passwords, atomically: true, encoding: .utf8)
        _ = try ChildProcess.run("/usr/bin/mosquitto_passwd", ["-U", passwords])
        let broker = try TestBroker.start(extraConfiguration: "allow_anonymous false\npassword_file \(passwords)\n", logger: testLogger)
        let log = CapturedLog()
        let client = try makeClient(broker, id: "refused", version: .v5, username: "device", password: "wrong", logger: log.logger)
        client.start()
        let line = await log.line { $0.contains("MQTT connection attempt failed") }
        #expect(line?.contains("connection refused: Not authorized (0x87)") == true, "\(log.text)")
        #expect(log.lines { $0.contains("MQTT broker refused the connection") && $0.contains("Not authorized (0x87)") }.count >= 1)
        client.stop()
    }

    @Test("session expiry: a message queued while offline within the expiry arrives; after it the session is gone")
    func sessionExpiry() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let topic = uniqueTopic("session")
        let id = "expiring-\(UInt32.random(in: 0...UInt32.max))"
        let publisher = try makeClient(broker, id: "session-pub", version: .v5)
        let acks = EventRecorder.recording(publisher)
        publisher.start()
        try #require(await acks.next { $0.isConnected } != nil)

        func device() async throws -> (MQTTClient, EventRecorder, sessionPresent: Bool) {
            let client = try makeClient(broker, id: id, version: .v5, sessionExpiry: 2)
            let events = EventRecorder.recording(client)
            try client.subscribe(topic, qos: 1)
            client.start()
            let connected = try #require(await events.next { $0.isConnected })
            guard case .connected(_, let present) = connected else { throw CancellationError() }
            return (client, events, present)
        }
        var (client, events, present) = try await device()
        #expect(!present)
        try await confirmSubscription(client, events, topic: topic)
        client.stop()

        // Offline for less than the expiry: the message waits in the session.
        try publisher.publish(topic: topic, payload: Array("kept".utf8), qos: 1, retain: false)
        #expect(await acks.next(where: isPublished) != nil)
        (client, events, present) = try await device()
        #expect(present)
        #expect(await events.next(where: MQTTEvent.isMessage(on: topic))?.messagePayload == Array("kept".utf8))
        client.stop()

        // Offline for longer: the broker expires the session and the message with it.
        try publisher.publish(topic: topic, payload: Array("lost".utf8), qos: 1, retain: false)
        #expect(await acks.next(where: isPublished) != nil)
        #expect(await broker.waitForLog(containing: "Expiring client \(id) due to timeout"), "\(broker.logTail())")
        (client, events, present) = try await device()
        #expect(!present)
        // The first message on the topic is our own probe: nothing was queued.
        let probe = Array("probe-after-expiry".utf8)
        try client.publish(topic: topic, payload: probe, qos: 1, retain: false)
        #expect(await events.next(where: MQTTEvent.isMessage(on: topic))?.messagePayload == probe)
        client.stop()
        publisher.stop()
    }
}
