import Foundation
import ReplenishMQTT

/// Turns the `mqtt:` section into transport options.
enum MQTTOptionsBuilder {
    static func options(for config: AgentConfig) throws -> MQTTClientOptions {
        let mqtt = config.mqtt
        guard !mqtt.url.tls else {
            throw AgentError(.unsupported, "mqtt.url: mqtts:// (TLS) is not available in this build yet; use mqtt:// on loopback")
        }
        var password: String?
        if let file = mqtt.passwordFile {
            do {
                password = try String(contentsOfFile: file, encoding: .utf8)
                    .trimmingCharacters(in: .newlines)
            } catch {
                throw AgentError(.unreadable, "mqtt.password_file: cannot read \(file): \(error.localizedDescription)")
            }
        }
        return MQTTClientOptions(host: mqtt.url.host, port: mqtt.url.port, clientID: mqtt.clientID,
                                 keepAliveSeconds: mqtt.keepAliveSeconds, username: mqtt.username, password: password,
                                 reconnectDelayMin: mqtt.reconnectDelayMin, reconnectDelayMax: mqtt.reconnectDelayMax)
    }
}
