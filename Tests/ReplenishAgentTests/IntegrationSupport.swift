import Foundation
import Logging
import ReplenishAgent
import ReplenishMQTT
import ReplenishTestSupport
import Synchronization
import Testing

/// A fresh directory for one test, removed when the value goes away.
final class TemporaryDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenishd-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}

struct TimedOut: Error, CustomStringConvertible {
    var description: String
}

/// Waits until `condition` holds, checking every 20 ms, and fails after `limit`. Generous limits:
/// they only bound a failure, and CI runs hundreds of these at once on two cores (a tighter
/// poll, or a limit of 20 s, made loaded runs fail for want of CPU, not of the condition).
func waitUntil(_ what: String, within limit: Duration = .seconds(60),
               _ condition: @Sendable () throws -> Bool) async throws {
    let deadline = ContinuousClock.now + limit
    while try !condition() {
        guard ContinuousClock.now < deadline else { throw TimedOut(description: "timed out waiting for \(what)") }
        try await Task.sleep(for: .milliseconds(20))
    }
}

/// One message as a subscriber received it, decoded.
struct ReceivedMessage: Sendable {
    var topic: String
    var seq: UInt64
    var reason: String?
    var json: String
}

final class MessageLog: Sendable {
    private let list = Mutex<[ReceivedMessage]>([])
    private let rawList = Mutex<[RawMessage]>([])
    func append(_ message: ReceivedMessage) { list.withLock { $0.append(message) } }
    func appendRaw(_ message: RawMessage) { rawList.withLock { $0.append(message) } }
    var all: [ReceivedMessage] { list.withLock { $0 } }
    var raw: [RawMessage] { rawList.withLock { $0 } }
}

/// Any message as received, JSON or not (availability is plain text).
struct RawMessage: Sendable {
    var topic: String
    var payload: String
    var retained: Bool
}

/// A second MQTT client that records everything on the device's topics, on a persistent session
/// so that nothing published while it reconnects after a broker restart is missed.
final class Subscriber: Sendable {
    let client: MQTTClient
    private let log = MessageLog()
    private let task: Mutex<Task<Void, Never>?> = Mutex(nil)

    private let probeTopic: String

    init(broker: TestBroker, base: String, clientID: String = "test-subscriber-\(UUID().uuidString.prefix(8))",
         tls: MQTTTLSOptions? = nil) throws {
        let filter = base + "/#"
        probeTopic = base + "/test-probe"
        let probeTopic = self.probeTopic
        var options = MQTTClientOptions(host: broker.host, port: broker.port, clientID: clientID)
        options.cleanSession = false
        options.tls = tls
        options.reconnectDelayMin = 0.05
        options.reconnectDelayMax = 0.2
        client = try MQTTClient(options: options, logger: Logger(label: "test.subscriber"))
        try client.subscribe(filter, qos: 1)
        client.start()
        let events = client.events
        let log = self.log
        let capture = try Self.capture(clientID: clientID)
        task.withLock {
            $0 = Task {
                for await event in events {
                    guard case let .message(topic, payload, retained, _) = event else { continue }
                    capture?.record(topic: topic, payload: payload, retained: retained)
                    log.appendRaw(RawMessage(topic: topic, payload: String(decoding: payload, as: UTF8.self),
                                             retained: retained))
                    if topic == probeTopic {
                        log.append(ReceivedMessage(topic: topic, seq: 0, reason: nil, json: ""))
                        continue
                    }
                    guard let object = try? JSONSerialization.jsonObject(with: Data(payload)) as? [String: Any],
                          let seq = (object["seq"] as? NSNumber)?.uint64Value else { continue }
                    let message = ReceivedMessage(topic: topic, seq: seq, reason: object["reason"] as? String,
                                                  json: String(decoding: payload, as: UTF8.self))
                    log.append(message)
                }
            }
        }
    }

    /// With `REPLENISHD_CAPTURE_DIR` set (`make test`), every message this subscriber receives
    /// also goes to a file of its own there, for Tests/Contract/validate.py.
    private static func capture(clientID: String) throws -> MessageCapture? {
        guard let dir = ProcessInfo.processInfo.environment["REPLENISHD_CAPTURE_DIR"], !dir.isEmpty else { return nil }
        let name = String(clientID.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" })
        return try MessageCapture(path: dir + "/\(name)-\(UUID().uuidString.prefix(8)).jsonl")
    }

    /// Returns once the subscription is active: the broker handles one connection's packets in
    /// order, so a probe we publish after subscribing comes back only once it is.
    func ready() async throws {
        try await waitUntil("subscriber connected") {
            (try? self.client.publish(topic: self.probeTopic, payload: Array("probe".utf8), qos: 1, retain: false)) != nil
        }
        try await waitUntil("probe echoed") { self.log.all.contains { $0.topic == self.probeTopic } }
    }

    /// Every message received, JSON or not, probes included.
    var rawMessages: [RawMessage] { log.raw }

    /// Messages with a seq (probes left out).
    var messages: [ReceivedMessage] { log.all.filter { $0.topic != probeTopic } }

    /// Distinct seqs in order of first arrival (a redelivered copy is dropped, as the cloud does).
    var distinctSeqs: [UInt64] {
        var seen = Set<UInt64>()
        return messages.map(\.seq).filter { seen.insert($0).inserted }
    }

    func waitFor(_ what: String, within limit: Duration = .seconds(60),
                 _ condition: @escaping @Sendable ([ReceivedMessage]) -> Bool) async throws {
        try await waitUntil(what, within: limit) { condition(self.messages) }
    }

    func stop() {
        client.stop()
        task.withLock { $0?.cancel() }
    }
}

/// The payload of an outbox row a test writes itself to exercise delivery: not a message of the
/// contract, so it says so, and Tests/Contract/validate.py skips it instead of checking it.
func syntheticOutboxRow(seq: UInt64) -> [UInt8] {
    Array(#"{"seq":\#(seq),"syntheticTestRow":true}"#.utf8)
}

/// The replenishd executable built beside the test bundle.
func replenishdExecutable() throws -> String {
    if let path = ProcessInfo.processInfo.environment["REPLENISHD_BIN"] { return path }
    let bundle = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    let path = bundle.appendingPathComponent("replenishd").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw TimedOut(description: "replenishd not built at \(path); run `swift build` first (make test does)")
    }
    return path
}

/// A test config for the daemon.
func testConfig(deviceID: String, broker: TestBroker, database: String, every: String = "1h",
                extraSlots: String = "", tls: TestPKI? = nil) -> String {
    let tlsKeys = tls.map { "\n  ca_file: \($0.caFile)\n  cert_file: \($0.clientCert)\n  key_file: \($0.clientKey)" } ?? ""
    return """
    device:
      id: \(deviceID)
      timezone: UTC
    mqtt:
      url: \(broker.url)\(tlsKeys)
    storage:
      path: \(database)
      flush_interval: 1h
    report:
      daily_at: "03:00"
      every: \(every)
    slots:
      - id: water
        sensor: level
        measurement: {type: Volume, unit: MILLILITER}
        capacity: 1800
        source:
          driver: simulated
          sample_every: 10m
        simulation:
          daily_consumption: 900
          uses_per_day: 6
          refill: below 10%
      - id: pods
        sensor: usage
        measurement: {type: Count}
        capacity: 50
        source:
          driver: simulated
          sample_every: 10m
        simulation:
          daily_consumption: 5
          uses_per_day: 5
    \(extraSlots)
    """
}
