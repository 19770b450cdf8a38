import Testing
@testable import ReplenishAgent

@Suite("config value parsers")
struct ValueParserTests {
    @Test("durations", arguments: [
        ("250ms", 0.25), ("90s", 90), ("5m", 300), ("6h", 21_600), ("2d", 172_800),
        ("1h30m", 5_400), ("1d2h3m4s5ms", 93_784.005), ("1.5h", 5_400), ("60", 60), ("0.5", 0.5), ("0s", 0),
    ] as [(String, Double)])
    func duration(text: String, seconds: Double) {
        #expect(DurationParser.seconds(text) == seconds)
    }

    @Test("rejected durations", arguments: [
        "", "-5s", "+5s", "-5", "s", "5x", "5 s", "30m1h", "5s5s", "1.2.3s", "abc", "5S", "1e999", "1e3s",
        String(repeating: "9", count: 400) + "s", "inf", "nan",
    ])
    func rejectedDuration(text: String) {
        #expect(DurationParser.seconds(text) == nil)
    }

    @Test("sizes", arguments: [
        ("4MiB", 4 << 20), ("512KiB", 512 << 10), ("1GiB", 1 << 30), ("64kB", 64_000), ("64KB", 64_000),
        ("1MB", 1_000_000), ("1GB", 1_000_000_000), ("100B", 100), ("65536", 65_536), ("0", 0),
    ] as [(String, Int)])
    func size(text: String, bytes: Int) {
        #expect(SizeParser.bytes(text) == bytes)
    }

    @Test("rejected sizes", arguments: [
        "", "-1", "-4MiB", "4 MiB", "4mib", "4M", "1.5MiB", "MiB", "abc", "99999999999999999999",
        "9999999999999GiB",
    ])
    func rejectedSize(text: String) {
        #expect(SizeParser.bytes(text) == nil)
    }

    @Test("percentages", arguments: [("5%", 5.0), ("12.5%", 12.5), ("0%", 0), ("100%", 100), ("150%", 150)])
    func percentage(text: String, percent: Double) {
        #expect(PercentageParser.percent(text) == percent)
    }

    @Test("rejected percentages", arguments: ["", "%", "5", "-5%", "5 %", "five%", "5%%", "1e999%"])
    func rejectedPercentage(text: String) {
        #expect(PercentageParser.percent(text) == nil)
    }

    @Test("config hash is FNV-1a 64 as 16 lowercase hex digits", arguments: [
        ("", "cbf29ce484222325"), ("a", "af63dc4c8601ec8c"), ("foobar", "85944171f73967e8"),
    ])
    func hash(text: String, digest: String) {
        #expect(configHash(of: text.utf8) == digest)
    }

    @Test("broker URLs", arguments: [
        ("mqtt://127.0.0.1:1883", BrokerURL(tls: false, host: "127.0.0.1", port: 1883)),
        ("mqtt://broker.local", BrokerURL(tls: false, host: "broker.local", port: 1883)),
        ("mqtts://broker.example.com", BrokerURL(tls: true, host: "broker.example.com", port: 8883)),
        ("MQTTS://broker.example.com:443/", BrokerURL(tls: true, host: "broker.example.com", port: 443)),
        ("mqtt://[::1]", BrokerURL(tls: false, host: "::1", port: 1883)),
        ("mqtt://[fe80::1]:1884", BrokerURL(tls: false, host: "fe80::1", port: 1884)),
    ])
    func brokerURL(text: String, url: BrokerURL) throws {
        #expect(try BrokerURL.parse(text).get() == url)
    }

    @Test("rejected broker URLs", arguments: [
        ("http://broker", "unsupported scheme 'http' (expected mqtt://host[:port] or mqtts://host[:port])"),
        ("broker:1883", "expected mqtt://host[:port] or mqtts://host[:port], got 'broker:1883'"),
        ("mqtt://:1883", "missing host in 'mqtt://:1883'"),
        ("mqtt://broker:0", "expected a port from 1 to 65535, got '0'"),
        ("mqtt://broker:65536", "expected a port from 1 to 65535, got '65536'"),
        ("mqtt://broker:", "expected a port from 1 to 65535, got ''"),
        ("mqtt://fe80::1", "an IPv6 address must be written in [brackets], got 'mqtt://fe80::1'"),
        ("mqtt://[fe80::1", "missing ']' after the IPv6 address in 'mqtt://[fe80::1'"),
        ("mqtt://user:pw@broker", "credentials do not belong in the URL; use username and password_file"),
        ("mqtt://broker/topic", "a broker URL has no path or query, got 'mqtt://broker/topic'"),
        ("mqtt://bro ker", "expected a host name or address, got 'bro ker'"),
    ])
    func rejectedBrokerURL(text: String, message: String) {
        guard case let .failure(problem) = BrokerURL.parse(text) else {
            Issue.record("accepted \(text)")
            return
        }
        #expect(problem.code == .invalidConfigValue)
        #expect(problem.message == message)
    }

    @Test("unknown keys suggest the closest known key only when it is close", arguments: [
        ("urll", "url"), ("keep_alive", "keepalive"), ("basetopic", "base_topic"), ("zzz", nil),
    ] as [(String, String?)])
    func suggestion(key: String, suggested: String?) {
        let message = ConfigReader.unknownKeyMessage(key, allowed: ["url", "base_topic", "keepalive"])
        #expect(message.hasPrefix("unknown key '\(key)' (expected one of: url, base_topic, keepalive)"))
        #expect(message.hasSuffix(suggested.map { "; did you mean '\($0)'?" } ?? ")"))
    }
}
