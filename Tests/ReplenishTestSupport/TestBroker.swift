import Foundation
import Glibc
import Logging
import ReplenishMQTT

/// A `LocalBroker` as tests need it: a TLS listener or persistence on request, restarts on the
/// same port, and freezing (SIGSTOP) for a hung broker.
public final class TestBroker: Sendable {
    /// A TLS listener instead of plaintext: the broker's certificate and, with
    /// `requireCertificate`, mutual TLS (the client certificate's CN becomes the username).
    public struct TLSListener: Sendable, Equatable {
        /// CA certificates the broker trusts for client certificates.
        public var caFile: String
        public var certFile: String
        public var keyFile: String
        public var requireCertificate: Bool

        public init(caFile: String, certFile: String, keyFile: String, requireCertificate: Bool = true) {
            self.caFile = caFile
            self.certFile = certFile
            self.keyFile = keyFile
            self.requireCertificate = requireCertificate
        }

        /// Listener options: they follow the `listener` line in mosquitto.conf. TLS 1.2 or later only.
        var configuration: String {
            """
            cafile \(caFile)
            certfile \(certFile)
            keyfile \(keyFile)
            tls_version tlsv1.2
            require_certificate \(requireCertificate)
            use_identity_as_username \(requireCertificate)

            """
        }
    }

    public let broker: LocalBroker
    public let tls: TLSListener?
    /// Where a persistent broker keeps sessions and queued messages; nil without persistence.
    private let persistenceDirectory: String?

    public var host: String { broker.host }
    public var port: Int { broker.port }
    public var url: String { "\(tls == nil ? "mqtt" : "mqtts")://\(host):\(port)" }

    /// Starts the broker. With `persistence`, sessions and queued messages survive `restart()`
    /// (written on a clean stop), as they do on a production broker.
    /// `extraConfiguration` is appended to mosquitto.conf as it is (e.g. `retain_available false`).
    public static func start(persistence: Bool = false, tls: TLSListener? = nil, extraConfiguration: String = "",
                             logger: Logger? = nil) throws -> TestBroker {
        // No per-client queue limit (mosquitto's default drops QoS 1 messages past 1000 queued for a
        // subscriber): a test that sends a burst of 1500 commands must not lose replies when its
        // subscriber reads slowly on a loaded machine.
        var configuration = "max_queued_messages 0\n" + (tls?.configuration ?? "") + extraConfiguration
        if !configuration.hasSuffix("\n") { configuration += "\n" }
        var directory: String?
        if persistence {
            let path = FileManager.default.temporaryDirectory
                .appendingPathComponent("replenish-broker-store-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            configuration += "persistence true\npersistence_location \(path)/\nautosave_interval 0\n"
            directory = path
        }
        do {
            let broker = try LocalBroker.start(configuration: configuration, logger: logger)
            return TestBroker(broker: broker, tls: tls, persistenceDirectory: directory)
        } catch {
            if let directory { try? FileManager.default.removeItem(atPath: directory) }
            throw error
        }
    }

    private init(broker: LocalBroker, tls: TLSListener?, persistenceDirectory: String?) {
        self.broker = broker
        self.tls = tls
        self.persistenceDirectory = persistenceDirectory
    }

    deinit {
        broker.stop()
        if let persistenceDirectory { try? FileManager.default.removeItem(atPath: persistenceDirectory) }
    }

    /// Stops the broker (idempotent).
    public func stop() { broker.stop() }

    /// Starts the broker again on the same port (for outage tests) and waits until it accepts.
    public func restart() throws {
        broker.stop()
        try broker.launch()
    }

    /// Freezes the broker (SIGSTOP): connections stay up and nothing is answered, as with a hung
    /// broker or a dead path that drops packets without a reset. `resume` thaws it.
    public func pause() { broker.signal(SIGSTOP) }

    /// Thaws a paused broker (SIGCONT).
    public func resume() { broker.signal(SIGCONT) }

    /// The last lines of the broker's log and output.
    public func logTail(lines: Int = 20) -> String { broker.logTail(lines: lines) }

    /// Waits until the broker's log has a line containing `text` (polled every 50 ms), e.g.
    /// `Expiring client X due to timeout.`; false when `seconds` pass first.
    public func waitForLog(containing text: String, within seconds: Double = 10) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if broker.logTail(lines: 100_000).contains(text) { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return broker.logTail(lines: 100_000).contains(text)
    }

    /// A file in the temporary directory with `lines` (an `acl_file`, a plugin's configuration).
    public static func aclFile(_ lines: [String]) throws -> String {
        let path = FileManager.default.temporaryDirectory
            .appendingPathComponent("replenish-acl-\(getpid())-\(UInt64.random(in: 0...UInt64.max))").path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
}
