import Foundation
import Testing
import ReplenishTestSupport

/// Issue 17 item 5: `mqtt.retain: false` for a broker that does not take retained messages,
/// tested against mosquitto with `retain_available false`.
@Suite("mqtt.retain against a broker without retained messages", .serialized)
struct RetainTests {
    static func start(retain: Bool?, device: String, protocolVersion: String? = nil) throws -> (TestBroker, TemporaryDirectory, String) {
        let directory = try TemporaryDirectory()
        let broker = try TestBroker.start(extraConfiguration: "retain_available false")
        let configPath = directory.path("replenishd.yaml")
        let retainLine = (retain.map { "\n  retain: \($0)" } ?? "") + (protocolVersion.map { "\n  protocol: \($0)" } ?? "")
        try testConfig(deviceID: device, broker: broker, database: directory.path("state.db"))
            .replacingOccurrences(of: "  url: \(broker.url)", with: "  url: \(broker.url)\(retainLine)")
            .write(toFile: configPath, atomically: true, encoding: .utf8)
        return (broker, directory, configPath)
    }

    /// The broker's log lines for connections of `clientID`.
    static func connections(_ broker: TestBroker, clientID: String) -> Int {
        broker.logTail(lines: 10_000).split(separator: "\n")
            .filter { $0.contains("New client connected") && $0.contains(" as \(clientID) ") }.count
    }

    @Test("retain: false connects once, announces itself unretained, delivers, and says offline on stop")
    func unretained() async throws {
        let (broker, directory, configPath) = try Self.start(retain: false, device: "retain-off")
        defer { broker.stop() }
        let base = "replenish/v1/retain-off"
        let subscriber = try Subscriber(broker: broker, base: base)
        defer { subscriber.stop() }
        try await subscriber.ready()

        let daemon = try DaemonProcessTests.launch(["run", "--config", configPath, "--simulate"], in: directory, name: "d")
        try await subscriber.waitFor("the startup report") { $0.contains { $0.reason == "startup" } }
        try await waitUntil("the birth message") {
            subscriber.rawMessages.contains { $0.topic == base + "/availability" && $0.payload == "online" }
        }
        // A report more, still on the first connection: no reconnect loop.
        try subscriber.client.publish(topic: base + "/commands/reportNow", payload: Array(#"{"correlationId":"n-1"}"#.utf8),
                                      qos: 1, retain: false)
        try await subscriber.waitFor("the report asked for") { $0.contains { $0.reason == "command" } }
        #expect(Self.connections(broker, clientID: "retain-off") == 1, "\(broker.logTail(lines: 40))")
        kill(daemon.processIdentifier, SIGTERM)
        daemon.waitUntilExit()
        #expect(daemon.terminationStatus == 0)
        try await waitUntil("the farewell") {
            subscriber.rawMessages.contains { $0.topic == base + "/availability" && $0.payload == "offline" }
        }
        let availability = subscriber.rawMessages.filter { $0.topic == base + "/availability" }
        #expect(availability.allSatisfy { !$0.retained })
        let stderr = (try? String(contentsOfFile: directory.path("d.err"), encoding: .utf8)) ?? ""
        #expect(!stderr.contains("connection lost") && !stderr.contains("attempt failed"), "\(stderr)")
    }

    /// mosquitto 2.0 closes an MQTT 3.1.1 connection whose will is retained before CONNACK when
    /// retain_available is false, and refuses an MQTT 5 one with CONNACK 0x9A (retain not
    /// supported): the daemon never connects and retries with backoff; the log names the fix.
    @Test("retain: true (the default) never connects there, and the log says to set mqtt.retain: false",
          arguments: ["3.1.1", "5"])
    func retainedRefused(_ version: String) async throws {
        let (broker, directory, configPath) = try Self.start(retain: nil, device: "retain-on", protocolVersion: version)
        defer { broker.stop() }
        let daemon = try DaemonProcessTests.launch(["run", "--config", configPath, "--simulate"], in: directory, name: "d")
        defer {
            kill(daemon.processIdentifier, SIGTERM)
            daemon.waitUntilExit()
        }
        @Sendable func stderr() -> String { (try? String(contentsOfFile: directory.path("d.err"), encoding: .utf8)) ?? "" }
        try await waitUntil("the refusal explained") { stderr().contains("mqtt.retain: false") }
        #expect(stderr().contains("its will is retained"), "\(stderr())")
        #expect(!stderr().contains("MQTT connected"), "\(stderr())")
        if version == "5" {
            #expect(stderr().contains("connection refused: Retain not supported (0x9a)"), "\(stderr())")
        } else {
            // mosquitto's own account: "Client <unknown> disconnected due to QoS too high or retain not supported."
            #expect(broker.logTail(lines: 200).contains("retain not supported"), "\(broker.logTail(lines: 40))")
        }
        #expect(Self.connections(broker, clientID: "retain-on") == 0)
    }
}
