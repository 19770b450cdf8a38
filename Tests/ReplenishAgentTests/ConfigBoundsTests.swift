@testable import ReplenishAgent
import Testing

/// Quantities and message sizes in the config have ranges too (issue 13: every quantity that
/// enters from outside is bounded before it touches a ledger).
@Suite("config: quantity and message-size bounds")
struct ConfigBoundsTests {
    static let mistakes: [ConfigMistake] = [
        ConfigMistake("capacity beyond the quantity bound", "    capacity: 1.8", "    capacity: 1e300",
                      "cfg.yaml:13:15: slots[0].capacity: expected a capacity of at most 1000000000, got 1e300"),
        ConfigMistake("max_message_size below one slot's report", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://127.0.0.1\n  max_message_size: 1KiB",
                      "cfg.yaml:5:21: mqtt.max_message_size: expected a size of at least 16KiB and at most 256MiB, got '1KiB'"),
        ConfigMistake("max_message_size beyond MQTT's packet limit", "  url: mqtt://127.0.0.1",
                      "  url: mqtt://127.0.0.1\n  max_message_size: 1GiB",
                      "cfg.yaml:5:21: mqtt.max_message_size: expected a size of at least 16KiB and at most 256MiB, got '1GiB'"),
    ]

    @Test("an out-of-range quantity or size is reported at its line and column", arguments: mistakes)
    func mistake(_ mistake: ConfigMistake) {
        let error = #expect(throws: AgentError.self) {
            try ConfigLoader.parse(mistake.yaml, fileName: "cfg.yaml")
        }
        #expect(error?.code == .configRejected)
        #expect(error?.diagnostics.map(\.description) == mistake.expected)
    }

    @Test("max_message_size defaults to AWS IoT Core's 128 KiB and takes a size")
    func maxMessageSize() throws {
        let yaml = ConfigMistake("", "  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1\n  max_message_size: 64KiB").yaml
        #expect(try ConfigLoader.parse(yaml, fileName: "cfg.yaml").mqtt.maxMessageBytes == 64 << 10)
        let plain = ConfigMistake("", "  url: mqtt://127.0.0.1", "  url: mqtt://127.0.0.1").yaml
        #expect(try ConfigLoader.parse(plain, fileName: "cfg.yaml").mqtt.maxMessageBytes == 128 << 10)
    }
}
