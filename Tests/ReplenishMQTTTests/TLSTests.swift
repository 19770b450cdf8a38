import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Synchronization
import Testing
@testable import ReplenishMQTT
import ReplenishTestSupport

@Suite("MQTT over TLS against a real mosquitto")
struct TLSTests {
    private func tlsClient(_ broker: TestBroker, id: String, host: String? = nil, port: Int? = nil,
                           tls: MQTTTLSOptions, logger: Logger = testLogger) throws -> (MQTTClient, EventRecorder) {
        let options = MQTTClientOptions(host: host ?? broker.host, port: port ?? broker.port, clientID: id,
                                        reconnectDelayMin: 0.05, reconnectDelayMax: 0.2, tls: tls)
        let client = try MQTTClient(options: options, logger: logger)
        let events = EventRecorder.recording(client)
        client.start()
        return (client, events)
    }

    /// Waits for two failed attempts (so the client keeps retrying) and checks it never connected.
    private func expectRefused(_ client: MQTTClient, _ events: EventRecorder, _ log: CapturedLog,
                               reason: String..., sourceLocation: SourceLocation = #_sourceLocation) async {
        let failed: @Sendable (String) -> Bool = { $0.hasPrefix("warning MQTT TLS") && $0.contains("failed") }
        let first = await log.line(within: 5, where: failed)
        #expect(first != nil, "no TLS failure warning; log:\n\(log.text)", sourceLocation: sourceLocation)
        #expect(reason.contains { first?.contains($0) == true }, "the warning does not give the reason: \(first ?? "-")",
                sourceLocation: sourceLocation)
        let failures = Mutex(0)
        let retried = await log.line(within: 5) { line in failed(line) && failures.withLock { $0 += 1; return $0 == 2 } }
        #expect(retried != nil, "no second attempt", sourceLocation: sourceLocation)
        #expect(await events.next(within: 0) { $0.isConnected } == nil, "connected anyway", sourceLocation: sourceLocation)
        client.stop()
    }

    @Test("mutual TLS: QoS 1 publish is acknowledged and a TLS subscriber receives it")
    func mutualTLSDelivers() async throws {
        let pki = try TestPKI.shared()
        let broker = try TestBroker.start(tls: pki.listener(), logger: testLogger)
        #expect(broker.url.hasPrefix("mqtts://"))
        let topic = uniqueTopic("tls")
        let (subscriber, inbox) = try tlsClient(broker, id: "tls-sub", tls: pki.clientTLS())
        try #require(await inbox.next { $0.isConnected } != nil, "TLS subscriber did not connect:\n\(broker.logTail())")
        try await subscribeConfirmed(subscriber, inbox, to: topic)
        // By name as well as by address: the server certificate carries both.
        let (publisher, events) = try tlsClient(broker, id: "tls-pub", host: "localhost", tls: pki.clientTLS())
        try #require(await events.next { $0.isConnected } != nil, "TLS publisher did not connect:\n\(broker.logTail())")

        let payload = Array("{\"schema\":\"replenish.status/1\"}".utf8)
        let sent = try publisher.publish(topic: topic, payload: payload, qos: 1, retain: false)
        #expect(await events.next { if case .published = $0 { true } else { false } }
            == .published(connection: sent.connection, messageID: sent.messageID))
        #expect(await inbox.next(where: MQTTEvent.isMessage(on: topic)) == .message(topic: topic, payload: payload, retained: false))
        publisher.stop()
        subscriber.stop()
    }

    @Test("a broker certificate from an unknown CA is refused with OpenSSL's reason, and the client keeps retrying")
    func wrongCARefused() async throws {
        let pki = try TestPKI.shared()
        let broker = try TestBroker.start(tls: pki.listener(), logger: testLogger)
        let log = CapturedLog()
        let (client, events) = try tlsClient(broker, id: "tls-wrong-ca", tls: pki.clientTLS(caFile: pki.unrelatedCAFile),
                                             logger: log.logger)
        await expectRefused(client, events, log, reason: "certificate verify failed")
        #expect(!log.lines { $0.hasPrefix("error libmosquitto error") && $0.contains("certificate verify failed") }.isEmpty)
    }

    struct BadServerCertificate: Sendable, CustomTestStringConvertible {
        var label: String
        var certificate: @Sendable (TestPKI) -> String
        var trusting: @Sendable (TestPKI) -> String
        var reason: String
        var testDescription: String { label }
    }

    static let badServerCertificates: [BadServerCertificate] = [
        .init(label: "expired", certificate: { $0.expiredServerCert }, trusting: { $0.caFile },
              reason: "certificate has expired"),
        .init(label: "not yet valid", certificate: { $0.futureServerCert }, trusting: { $0.caFile },
              reason: "certificate is not yet valid"),
        .init(label: "self-signed", certificate: { $0.selfSignedServerCert }, trusting: { $0.caFile },
              reason: "self-signed certificate"),
        .init(label: "unknown CA", certificate: { $0.serverCert }, trusting: { $0.unrelatedCAFile },
              reason: "self-signed certificate in certificate chain (unknown CA: not signed by a CA in the CA file)"),
    ]

    @Test("a broker certificate that fails verification is logged with OpenSSL's reason, once per attempt",
          arguments: badServerCertificates)
    func verificationReasonOncePerAttempt(_ bad: BadServerCertificate) async throws {
        let pki = try TestPKI.shared()
        let broker = try TestBroker.start(tls: pki.listener(serverCert: bad.certificate(pki)), logger: testLogger)
        let log = CapturedLog()
        let (client, events) = try tlsClient(broker, id: "tls-\(bad.label)", tls: pki.clientTLS(caFile: bad.trusting(pki)),
                                             logger: log.logger)
        await expectRefused(client, events, log, reason: "certificate verify failed")
        let attempts = log.lines { $0.hasPrefix("warning MQTT TLS") && $0.contains("failed") }
        let reasons = log.lines { $0.contains(bad.reason) }
        #expect(attempts.count >= 2)
        #expect(attempts.allSatisfy { $0.contains("broker certificate rejected: \(bad.reason)") }, "\(log.text)")
        // One line per attempt says why: the attempt's warning, nothing else repeats it.
        #expect(reasons.count == attempts.count, "\(log.text)")
    }

    @Test("an expired client certificate is refused by the broker; the client says so and does not connect")
    func expiredClientCertificateRefused() async throws {
        let pki = try TestPKI.shared()
        let broker = try TestBroker.start(tls: pki.listener(), logger: testLogger)
        let log = CapturedLog()
        let (client, events) = try tlsClient(broker, id: "tls-expired", tls: pki.clientTLS(certFile: pki.expiredClientCert),
                                             logger: log.logger)
        // Whether OpenSSL's alert reaches the client before the broker closes the socket is a race;
        // without it the warning explains what a closed TLS connection before CONNACK means.
        await expectRefused(client, events, log, reason: "alert certificate expired", "rejects the client certificate")
        #expect(broker.logTail(lines: 50).contains("certificate verify failed"))
    }

    @Test("a broker certificate for another host name is refused with a verification message")
    func hostnameMismatchRefused() async throws {
        let pki = try TestPKI.shared()
        let listener = pki.listener(serverCert: pki.otherHostCert, serverKey: pki.otherHostKey)
        let broker = try TestBroker.start(tls: listener, logger: testLogger)
        let log = CapturedLog()
        let (client, events) = try tlsClient(broker, id: "tls-mismatch", tls: pki.clientTLS(), logger: log.logger)
        await expectRefused(client, events, log, reason: "host name verification failed")
    }

    @Test("a server that offers only TLS 1.1 is refused: TLS 1.2 is the minimum")
    func tls11Refused() async throws {
        let pki = try TestPKI.shared()
        // mosquitto cannot be limited to TLS 1.1 (its `tls_version tlsv1.1` means 1.1 or later),
        // so `openssl s_server` stands in for the broker; the handshake fails before any MQTT.
        let server = try TLS11Server(pki: pki)
        defer { server.stop() }
        let log = CapturedLog()
        let options = MQTTClientOptions(host: "127.0.0.1", port: server.port, clientID: "tls-old",
                                        reconnectDelayMin: 0.05, reconnectDelayMax: 0.2, tls: pki.clientTLS())
        let client = try MQTTClient(options: options, logger: log.logger)
        let events = EventRecorder.recording(client)
        client.start()
        await expectRefused(client, events, log, reason: "protocol version")
    }

    @Test("TLS options are validated by init", arguments: [
        MQTTTLSOptions(),
        MQTTTLSOptions(caFile: "/etc/ssl/certs/ca-certificates.crt", certFile: "/c.crt"),
        MQTTTLSOptions(caFile: "/etc/ssl/certs/ca-certificates.crt", keyFile: "/c.key"),
        MQTTTLSOptions(caFile: "/etc/ssl/certs/ca-certificates.crt", minimumVersion: "tlsv1.1"),
        MQTTTLSOptions(caFile: "/nonexistent/ca.crt"),
        MQTTTLSOptions(caFile: "/etc/ssl/certs/ca-certificates.crt", alpn: ""),
    ])
    func invalidTLSOptions(tls: MQTTTLSOptions) {
        let options = MQTTClientOptions(host: "h", port: 8883, clientID: "x", tls: tls)
        let error = #expect(throws: MQTTError.self) { try MQTTClient(options: options, logger: testLogger) }
        #expect(error?.code == .invalidArgument)
    }

    @Test("valid TLS options with ALPN make a client without touching the network")
    func validTLSOptions() throws {
        let pki = try TestPKI.shared()
        var tls = pki.clientTLS()
        tls.alpn = "x-amzn-mqtt-ca"
        let options = MQTTClientOptions(host: "h", port: 443, clientID: "x", tls: tls)
        _ = try MQTTClient(options: options, logger: testLogger)
        #expect("\(options)".contains("alpn: x-amzn-mqtt-ca"))
    }
}

/// `openssl s_server` limited to TLS 1.1 (with the security level lowered so OpenSSL 3 allows it).
final class TLS11Server: Sendable {
    let port: Int
    private let process: ChildProcess

    init(pki: TestPKI) throws {
        port = try LocalBroker.freeLoopbackPort()
        process = try ChildProcess("/usr/bin/env", ["openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-tls1_1",
                                                   "-cipher", "DEFAULT:@SECLEVEL=0", "-cert", pki.serverCert,
                                                   "-key", pki.serverKey, "-www"],
                                   stdout: .pipe, stderr: .pipe)
        // s_server prints ACCEPT once it listens; end of output means it exited.
        var seen = ""
        while !seen.contains("ACCEPT") {
            let chunk = process.read()
            if chunk.isEmpty {
                throw TestPKI.Failure(description: "openssl s_server -tls1_1 exited:\n\(seen)")
            }
            seen += String(decoding: chunk, as: UTF8.self)
        }
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}
