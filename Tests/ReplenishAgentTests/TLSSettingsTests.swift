import Foundation
import Testing
@testable import ReplenishAgent
import ReplenishMQTT

private let base = """
    device:
      id: cm-000123
    mqtt:
    %MQTT%
    storage:
      path: /var/lib/replenishd/state.db
    report:
      daily_at: 3:00
    slots:
      - id: water_tank
        sensor: level
        measurement: {type: Volume, unit: LITER}
        capacity: 1.8
        source: {driver: simulated}

    """

private func config(_ mqtt: String) throws -> AgentConfig {
    try ConfigLoader.parse(base.replacingOccurrences(of: "%MQTT%", with: mqtt), fileName: "cfg.yaml")
}

@Suite("TLS settings")
struct TLSSettingsTests {
    @Test("plaintext is accepted on loopback, and elsewhere only with allow_insecure", arguments: [
        "  url: mqtt://127.0.0.1", "  url: mqtt://127.8.9.10:1884", "  url: mqtt://localhost", "  url: mqtt://[::1]",
        "  url: mqtt://broker.example.com\n  allow_insecure: true",
    ])
    func plaintextAccepted(_ mqtt: String) throws {
        let loaded = try config(mqtt)
        #expect(!loaded.mqtt.url.tls)
        #expect(try MQTTOptionsBuilder.options(for: loaded).tls == nil)
    }

    @Test("plaintext to any other address is refused", arguments: [
        "  url: mqtt://[fe80::1]", "  url: mqtt://[::2]", "  url: mqtt://128.0.0.1",
    ])
    func plaintextRefused(_ mqtt: String) {
        let error = #expect(throws: AgentError.self) { try config(mqtt) }
        #expect(error?.code == .configRejected)
        #expect(error?.description.contains("is refused; use mqtts://") == true)
    }

    @Test("a 0644 key file is refused naming the file and its mode; 0600 and 0640 in our group are accepted")
    func keyFilePermissions() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replenishd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let ca = directory.appendingPathComponent("ca.pem").path
        let cert = directory.appendingPathComponent("device.crt").path
        let key = directory.appendingPathComponent("device.key").path
        for file in [ca, cert, key] { #expect(FileManager.default.createFile(atPath: file, contents: Data("x\n".utf8))) }
        let loaded = try config("""
              url: mqtts://broker.example.com
              ca_file: \(ca)
              cert_file: \(cert)
              key_file: \(key)
              alpn: x-amzn-mqtt-ca
            """)

        #expect(chmod(key, 0o644) == 0)
        let open = #expect(throws: AgentError.self) { try MQTTOptionsBuilder.options(for: loaded) }
        #expect(open?.description == "mqtt.key_file: \(key) is readable by others (mode 0644); expected 0600 or 0640 owned by the service")
        #expect(open?.code == .unsupported)  // `run` exits 78 (EX_CONFIG)

        #expect(chmod(key, 0o606) == 0)
        let writable = #expect(throws: AgentError.self) { try MQTTOptionsBuilder.options(for: loaded) }
        #expect(writable?.description.contains("is readable and writable by others (mode 0606)") == true)

        #expect(chmod(key, 0o660) == 0)
        let groupWritable = #expect(throws: AgentError.self) { try MQTTOptionsBuilder.options(for: loaded) }
        #expect(groupWritable?.description.contains("is writable by its group (mode 0660)") == true)

        #expect(chmod(key, 0o600) == 0)
        let options = try MQTTOptionsBuilder.options(for: loaded)
        #expect(options.tls == MQTTTLSOptions(caFile: ca, certFile: cert, keyFile: key, alpn: "x-amzn-mqtt-ca"))
        #expect(options.host == "broker.example.com" && options.port == 8883)

        // The file's group is our own effective group here, so 0640 is the packaged root:service case.
        #expect(chmod(key, 0o640) == 0)
        #expect(try MQTTOptionsBuilder.options(for: loaded).tls?.keyFile == key)
    }

    @Test("a missing file is named; a password file readable by others is refused")
    func missingAndOpenFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("replenishd-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("absent.pem").path
        let tls = try config("  url: mqtts://broker.example.com\n  ca_file: \(missing)")
        let error = #expect(throws: AgentError.self) { try MQTTOptionsBuilder.options(for: tls) }
        #expect(error?.description == "mqtt.ca_file: \(missing): No such file or directory")

        let password = directory.appendingPathComponent("mqtt.password").path
        #expect(FileManager.default.createFile(atPath: password, contents: Data("secret\n".utf8)))
        #expect(chmod(password, 0o604) == 0)
        let plain = try config("  url: mqtt://127.0.0.1\n  username: device\n  password_file: \(password)")
        let open = #expect(throws: AgentError.self) { try MQTTOptionsBuilder.options(for: plain) }
        #expect(open?.description == "mqtt.password_file: \(password) is readable by others (mode 0604); expected 0600 or 0640 owned by the service")
        #expect(chmod(password, 0o600) == 0)
        #expect(try MQTTOptionsBuilder.options(for: plain).password == "secret")
    }
}
