import Logging
import Synchronization
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

/// Collects every log line with its metadata; tests can wait for a line to appear.
final class CapturedLog: Sendable {
    let lines = Mutex<[String]>([])
    private let waiters = Mutex<[(id: Int, predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)]>([])
    private let nextWaiterID = Mutex(0)
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    /// Every line matching `predicate` so far.
    func lines(where predicate: (String) -> Bool) -> [String] { lines.withLock { $0.filter(predicate) } }

    /// The first line, logged before or after this call, that matches; nil after `seconds`.
    func line(within seconds: Double = 10, where predicate: @escaping @Sendable (String) -> Bool) async -> String? {
        let id = nextWaiterID.withLock { $0 += 1; return $0 }
        return await withCheckedContinuation { continuation in
            // Checked and registered under the lines' lock, so no line slips in between.
            lines.withLock { lines in
                if let match = lines.first(where: predicate) {
                    continuation.resume(returning: match)
                } else {
                    waiters.withLock { $0.append((id, predicate, continuation)) }
                    Task { [self] in
                        try? await Task.sleep(for: .seconds(seconds))
                        resolve(id, with: nil)
                    }
                }
            }
        }
    }

    fileprivate func append(_ line: String) {
        lines.withLock { lines in
            lines.append(line)
            // Each predicate sees each line once, so a predicate may count lines.
            let matched = waiters.withLock { waiters in
                var matched: [(id: Int, predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)] = []
                waiters.removeAll { waiter in
                    guard waiter.predicate(line) else { return false }
                    matched.append(waiter)
                    return true
                }
                return matched
            }
            for waiter in matched { waiter.continuation.resume(returning: line) }
        }
    }

    private func resolve(_ id: Int, with line: String?) {
        let waiter = waiters.withLock { waiters -> (id: Int, predicate: @Sendable (String) -> Bool, continuation: CheckedContinuation<String?, Never>)? in
            guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return waiters.remove(at: index)
        }
        waiter?.continuation.resume(returning: line)
    }

    var logger: Logger {
        var logger = Logger(label: "captured") { _ in CapturingLogHandler(sink: self) }
        logger.logLevel = .trace
        return logger
    }
}

struct CapturingLogHandler: LogHandler {
    let sink: CapturedLog
    var logLevel: Logger.Level = .trace
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let line = "\(event.level) \(event.message) \(fields.joined(separator: " "))"
        sink.append(line)
    }
}

@Suite("MQTTClient logging")
struct MQTTClientLoggingTests {
    @Test("the password never appears in the log, even at trace level with libmosquitto's own log")
    func passwordNeverLogged() async throws {
        let broker = try TestBroker.start(logger: testLogger)
        let captured = CapturedLog()
        let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        let options = MQTTClientOptions(
            host: broker.host, port: broker.port, clientID: "secretive", username: "device-1", password: password,
            reconnectDelayMin: 0.05, reconnectDelayMax: 0.5
        )
        let client = try MQTTClient(options: options, logger: captured.logger)
        let events = EventRecorder.recording(client)
        client.start()
        #expect(await events.next { $0.isConnected } == .connected(connection: 1, sessionPresent: false))
        let topic = uniqueTopic("logged")
        let sent = try client.publish(topic: topic, payload: Array("x".utf8), qos: 1, retain: false)
        #expect(await events.next { if case .published = $0 { true } else { false } } != nil)
        client.stop()

        let log = captured.text
        #expect(log.contains("MQTT connected"))
        #expect(log.contains("mqtt.mid=\(sent.messageID)") && log.contains("mqtt.topic=\(topic)"))
        #expect(log.contains("libmosquitto"))
        #expect(!log.contains(password))
        #expect(!"\(options)".contains(password))
    }
}
