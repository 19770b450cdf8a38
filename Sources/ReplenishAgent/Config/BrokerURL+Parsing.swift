extension BrokerURL {
    /// Parses `mqtt://host[:port]` (default 1883) or `mqtts://host[:port]` (8883); IPv6 hosts go in
    /// brackets and are kept without them. Credentials, paths and queries are rejected
    /// (`.invalidConfigValue`, saying why `mqtt.url` was not accepted).
    static func parse(_ text: String) -> Result<BrokerURL, AgentError> {
        func failure(_ message: String) -> Result<BrokerURL, AgentError> { .failure(AgentError(.invalidConfigValue, message)) }
        let expected = "expected mqtt://host[:port] or mqtts://host[:port]"

        guard let separator = text.firstRange(of: "://") else { return failure("\(expected), got '\(text)'") }
        let tls: Bool
        switch text[..<separator.lowerBound].lowercased() {
        case "mqtt": tls = false
        case "mqtts": tls = true
        default:
            return failure("unsupported scheme '\(text[..<separator.lowerBound])' (\(expected))")
        }
        var authority = text[separator.upperBound...]
        if authority.hasSuffix("/") { authority = authority.dropLast() }
        if authority.contains("@") {
            return failure("credentials do not belong in the URL; use username and password_file")
        }
        if authority.contains(where: { "/?#".contains($0) }) {
            return failure("a broker URL has no path or query, got '\(text)'")
        }

        let host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else {
                return failure("missing ']' after the IPv6 address in '\(text)'")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let rest = authority[authority.index(after: close)...]
            if !rest.isEmpty {
                guard rest.hasPrefix(":") else { return failure("\(expected), got '\(text)'") }
                portText = rest.dropFirst()
            }
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                return failure("expected an IPv6 address in brackets, got '[\(host)]'")
            }
        } else {
            let parts = authority.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count <= 2 else { return failure("an IPv6 address must be written in [brackets], got '\(text)'") }
            host = parts[0]
            portText = parts.count == 2 ? parts[1] : nil
            guard host.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
                return failure("expected a host name or address, got '\(host)'")
            }
        }
        guard !host.isEmpty else { return failure("missing host in '\(text)'") }

        var port = tls ? 8883 : 1883
        if let portText {
            guard let value = Int(portText), portText.allSatisfy(\.isNumber), (1...65_535).contains(value) else {
                return failure("expected a port from 1 to 65535, got '\(portText)'")
            }
            port = value
        }
        return .success(BrokerURL(tls: tls, host: String(host), port: port))
    }
}
